CREATE TABLE "login_sources" (
	"key_hash" text PRIMARY KEY,
	"succeeded_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "login_sources_at_idx" ON "login_sources" ("succeeded_at");