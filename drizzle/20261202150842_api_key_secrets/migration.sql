CREATE TABLE "api_key_secrets" (
	"hash" text PRIMARY KEY,
	"key_id" text NOT NULL,
	"grace_expires_at" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "api_keys_hash_unique";--> statement-breakpoint
DROP INDEX "api_keys_previous_hash_unique";--> statement-breakpoint
CREATE INDEX "api_key_secrets_key_idx" ON "api_key_secrets" ("key_id");--> statement-breakpoint
ALTER TABLE "api_key_secrets" ADD CONSTRAINT "api_key_secrets_key_id_api_keys_id_fkey" FOREIGN KEY ("key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE;--> statement-breakpoint
-- Data: every key's current secret, and the previous one a roll left (with its grace expiry).
INSERT INTO "api_key_secrets" ("hash", "key_id", "grace_expires_at")
SELECT "hash", "id", NULL FROM "api_keys"
UNION ALL
SELECT "previous_hash", "id", "previous_expires_at" FROM "api_keys" WHERE "previous_hash" IS NOT NULL;
