ALTER TABLE "usage_sync_state" ADD COLUMN "last_tick" bigint;--> statement-breakpoint
CREATE INDEX "usage_samples_at_idx" ON "usage_samples" ("at");