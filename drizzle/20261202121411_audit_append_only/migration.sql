-- Events written before objects had a type: the type is the action's first word, and a plan
-- change's object is its organisation (it used to name the plan).
UPDATE audit_events SET object_type = split_part(action, '.', 1) WHERE object_id IS NOT NULL;--> statement-breakpoint
UPDATE audit_events SET object_id = organisation_id WHERE action = 'organisation.plan_changed';--> statement-breakpoint
-- Append-only: no update ever; a delete only from the retention job, which sets
-- xscaler.audit_prune for its own transaction (set_config(..., true)).
CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('xscaler.audit_prune', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END
$$;--> statement-breakpoint
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
