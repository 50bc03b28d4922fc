-- What an uncached verification needs of the key and its tenant, copied onto each secret row so
-- the lookup reads one row by primary key (the join of three tables cost PostgreSQL twice that).
ALTER TABLE "api_key_secrets" ADD COLUMN "tenant_id" text;--> statement-breakpoint
ALTER TABLE "api_key_secrets" ADD COLUMN "scopes" text[];--> statement-breakpoint
ALTER TABLE "api_key_secrets" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_key_secrets" ADD COLUMN "revoked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_key_secrets" ADD COLUMN "tenant_status" "tenant_status";--> statement-breakpoint
UPDATE "api_key_secrets" s
   SET "tenant_id" = k."tenant_id", "scopes" = k."scopes", "expires_at" = k."expires_at",
       "revoked_at" = k."revoked_at", "tenant_status" = t."status"
  FROM "api_keys" k JOIN "tenants" t ON t."id" = k."tenant_id"
 WHERE k."id" = s."key_id";--> statement-breakpoint
ALTER TABLE "api_key_secrets" ALTER COLUMN "tenant_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "api_key_secrets" ALTER COLUMN "scopes" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "api_key_secrets" ALTER COLUMN "tenant_status" SET NOT NULL;--> statement-breakpoint
CREATE INDEX "api_key_secrets_tenant_idx" ON "api_key_secrets" ("tenant_id");--> statement-breakpoint
-- A new secret takes the copy from its key and the key's tenant, share-locked: a revocation or a
-- status change committing meanwhile is waited for (and read), or waits for this transaction
-- (and its own trigger then rewrites this row). Locks go key, tenant, secrets, as everywhere.
CREATE FUNCTION api_key_secrets_copy_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  SELECT k.tenant_id, k.scopes, k.expires_at, k.revoked_at
    INTO NEW.tenant_id, NEW.scopes, NEW.expires_at, NEW.revoked_at
    FROM api_keys k WHERE k.id = NEW.key_id FOR SHARE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'api_key_secrets: no api key %', NEW.key_id USING ERRCODE = 'foreign_key_violation';
  END IF;
  SELECT t.status INTO NEW.tenant_status FROM tenants t WHERE t.id = NEW.tenant_id FOR SHARE;
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER api_key_secrets_copy_key BEFORE INSERT OR UPDATE OF key_id ON api_key_secrets
  FOR EACH ROW EXECUTE FUNCTION api_key_secrets_copy_key();--> statement-breakpoint
-- A key's revocation (or any change of what is copied) rewrites its secrets in its transaction.
CREATE FUNCTION api_keys_copy_to_secrets() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE api_key_secrets s
     SET tenant_id = NEW.tenant_id, scopes = NEW.scopes, expires_at = NEW.expires_at,
         revoked_at = NEW.revoked_at, tenant_status = t.status
    FROM tenants t
   WHERE s.key_id = NEW.id AND t.id = NEW.tenant_id;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER api_keys_copy_to_secrets AFTER UPDATE OF tenant_id, scopes, expires_at, revoked_at
  ON api_keys FOR EACH ROW
  WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.scopes IS DISTINCT FROM NEW.scopes
        OR OLD.expires_at IS DISTINCT FROM NEW.expires_at OR OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
  EXECUTE FUNCTION api_keys_copy_to_secrets();--> statement-breakpoint
-- A tenant's suspension, resumption or deletion rewrites the status on all its secrets.
CREATE FUNCTION tenants_copy_status_to_secrets() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE api_key_secrets SET tenant_status = NEW.status WHERE tenant_id = NEW.id;
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER tenants_copy_status_to_secrets AFTER UPDATE OF status ON tenants FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION tenants_copy_status_to_secrets();
