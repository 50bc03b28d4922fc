ALTER TABLE "audit_events" RENAME COLUMN "target" TO "object_id";--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "object_type" text;--> statement-breakpoint
DROP INDEX "audit_events_org_idx";--> statement-breakpoint
CREATE INDEX "audit_events_org_idx" ON "audit_events" ("organisation_id","at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "audit_events_at_idx" ON "audit_events" ("at");