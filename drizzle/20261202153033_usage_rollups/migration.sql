CREATE TABLE "usage_daily" (
	"tenant_id" text,
	"bucket" timestamp with time zone,
	"last_at" timestamp with time zone NOT NULL,
	"active_series" bigint NOT NULL,
	"logs_bytes_this_month" double precision NOT NULL,
	"traces_bytes_this_month" double precision NOT NULL,
	CONSTRAINT "usage_daily_pkey" PRIMARY KEY("tenant_id","bucket")
);
--> statement-breakpoint
CREATE TABLE "usage_hourly" (
	"tenant_id" text,
	"bucket" timestamp with time zone,
	"last_at" timestamp with time zone NOT NULL,
	"active_series" bigint NOT NULL,
	"logs_bytes_this_month" double precision NOT NULL,
	"traces_bytes_this_month" double precision NOT NULL,
	CONSTRAINT "usage_hourly_pkey" PRIMARY KEY("tenant_id","bucket")
);
--> statement-breakpoint
CREATE TABLE "usage_org_daily" (
	"organisation_id" text,
	"bucket" timestamp with time zone,
	"last_at" timestamp with time zone NOT NULL,
	"active_series" bigint NOT NULL,
	"logs_bytes_this_month" double precision NOT NULL,
	"traces_bytes_this_month" double precision NOT NULL,
	CONSTRAINT "usage_org_daily_pkey" PRIMARY KEY("organisation_id","bucket")
);
--> statement-breakpoint
CREATE TABLE "usage_org_hourly" (
	"organisation_id" text,
	"bucket" timestamp with time zone,
	"last_at" timestamp with time zone NOT NULL,
	"active_series" bigint NOT NULL,
	"logs_bytes_this_month" double precision NOT NULL,
	"traces_bytes_this_month" double precision NOT NULL,
	CONSTRAINT "usage_org_hourly_pkey" PRIMARY KEY("organisation_id","bucket")
);
--> statement-breakpoint
CREATE TABLE "usage_org_samples" (
	"organisation_id" text,
	"at" timestamp with time zone,
	"active_series" bigint NOT NULL,
	"logs_bytes_this_month" double precision NOT NULL,
	"traces_bytes_this_month" double precision NOT NULL,
	CONSTRAINT "usage_org_samples_pkey" PRIMARY KEY("organisation_id","at")
);
--> statement-breakpoint
CREATE INDEX "usage_daily_bucket_brin" ON "usage_daily" USING brin ("bucket");--> statement-breakpoint
CREATE INDEX "usage_hourly_bucket_brin" ON "usage_hourly" USING brin ("bucket");--> statement-breakpoint
CREATE INDEX "usage_org_daily_bucket_brin" ON "usage_org_daily" USING brin ("bucket");--> statement-breakpoint
CREATE INDEX "usage_org_hourly_bucket_brin" ON "usage_org_hourly" USING brin ("bucket");--> statement-breakpoint
CREATE INDEX "usage_org_samples_at_brin" ON "usage_org_samples" USING brin ("at");--> statement-breakpoint
ALTER TABLE "usage_daily" ADD CONSTRAINT "usage_daily_tenant_id_tenants_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id");--> statement-breakpoint
ALTER TABLE "usage_hourly" ADD CONSTRAINT "usage_hourly_tenant_id_tenants_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id");--> statement-breakpoint
ALTER TABLE "usage_org_daily" ADD CONSTRAINT "usage_org_daily_organisation_id_organisations_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id");--> statement-breakpoint
ALTER TABLE "usage_org_hourly" ADD CONSTRAINT "usage_org_hourly_organisation_id_organisations_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id");--> statement-breakpoint
ALTER TABLE "usage_org_samples" ADD CONSTRAINT "usage_org_samples_organisation_id_organisations_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id");