CREATE TYPE "billing_plan" AS ENUM('free', 'scale');--> statement-breakpoint
CREATE TYPE "tenant_environment" AS ENUM('prod', 'staging', 'dev');--> statement-breakpoint
CREATE TYPE "user_role" AS ENUM('owner', 'admin', 'viewer');--> statement-breakpoint
CREATE TYPE "tenant_status" AS ENUM('active', 'suspended', 'deleted');--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY,
	"tenant_id" text NOT NULL,
	"display_name" text NOT NULL,
	"prefix" text NOT NULL,
	"hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_by" text,
	"expires_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	"previous_prefix" text,
	"previous_hash" text,
	"previous_expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"organisation_id" text,
	"actor_id" text,
	"action" text NOT NULL,
	"target" text,
	"outcome" text NOT NULL,
	"source_address" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "organisations" (
	"id" text PRIMARY KEY,
	"name" text NOT NULL,
	"billing_plan" "billing_plan" DEFAULT 'free'::"billing_plan" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"id" text PRIMARY KEY,
	"organisation_id" text NOT NULL,
	"display_name" text NOT NULL,
	"environment" "tenant_environment" NOT NULL,
	"region" text NOT NULL,
	"cell" text NOT NULL,
	"status" "tenant_status" DEFAULT 'active'::"tenant_status" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "usage_current" (
	"tenant_id" text PRIMARY KEY,
	"active_series" bigint DEFAULT 0 NOT NULL,
	"logs_bytes_this_month" double precision DEFAULT 0 NOT NULL,
	"traces_bytes_this_month" double precision DEFAULT 0 NOT NULL,
	"synced_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_samples" (
	"tenant_id" text,
	"at" timestamp with time zone,
	"active_series" bigint NOT NULL,
	"logs_bytes_this_month" double precision NOT NULL,
	"traces_bytes_this_month" double precision NOT NULL,
	CONSTRAINT "usage_samples_pkey" PRIMARY KEY("tenant_id","at")
);
--> statement-breakpoint
CREATE TABLE "usage_sync_state" (
	"id" integer PRIMARY KEY,
	"last_attempt_at" timestamp with time zone,
	"last_success_at" timestamp with time zone,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"tenants_synced" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" text PRIMARY KEY,
	"organisation_id" text NOT NULL,
	"email" text NOT NULL,
	"password_hash" text NOT NULL,
	"role" "user_role" NOT NULL,
	"token_version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"password_changed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_unique" ON "api_keys" ("hash");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_previous_hash_unique" ON "api_keys" ("previous_hash");--> statement-breakpoint
CREATE INDEX "api_keys_tenant_idx" ON "api_keys" ("tenant_id","created_at");--> statement-breakpoint
CREATE INDEX "audit_events_org_idx" ON "audit_events" ("organisation_id","at");--> statement-breakpoint
CREATE INDEX "tenants_organisation_idx" ON "tenants" ("organisation_id","created_at");--> statement-breakpoint
CREATE INDEX "tenants_cell_idx" ON "tenants" ("cell");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_unique" ON "users" (lower("email"));--> statement-breakpoint
CREATE INDEX "users_organisation_idx" ON "users" ("organisation_id");--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id");--> statement-breakpoint
ALTER TABLE "tenants" ADD CONSTRAINT "tenants_organisation_id_organisations_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id");--> statement-breakpoint
ALTER TABLE "usage_current" ADD CONSTRAINT "usage_current_tenant_id_tenants_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id");--> statement-breakpoint
ALTER TABLE "usage_samples" ADD CONSTRAINT "usage_samples_tenant_id_tenants_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id");--> statement-breakpoint
ALTER TABLE "users" ADD CONSTRAINT "users_organisation_id_organisations_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id");