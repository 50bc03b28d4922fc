CREATE TABLE "billing_subscriptions" (
	"id" text PRIMARY KEY,
	"organisation_id" text NOT NULL,
	"status" text NOT NULL,
	"last_event_at" timestamp with time zone NOT NULL,
	"last_event_id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "plan_key_redemptions" (
	"organisation_id" text,
	"key_hash" text,
	"plan" "billing_plan" NOT NULL,
	"redeemed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "plan_key_redemptions_pkey" PRIMARY KEY("organisation_id","key_hash")
);
--> statement-breakpoint
CREATE TABLE "stripe_events" (
	"id" text PRIMARY KEY,
	"type" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "usage_alert_state" (
	"organisation_id" text,
	"limit_name" text,
	"threshold" integer,
	CONSTRAINT "usage_alert_state_pkey" PRIMARY KEY("organisation_id","limit_name","threshold")
);
--> statement-breakpoint
CREATE TABLE "usage_alerts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "usage_alerts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"organisation_id" text NOT NULL,
	"limit_name" text NOT NULL,
	"threshold" integer NOT NULL,
	"used" double precision NOT NULL,
	"max" double precision NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "organisations" ADD COLUMN "stripe_customer_id" text;--> statement-breakpoint
ALTER TABLE "organisations" ADD CONSTRAINT "organisations_stripe_customer_id_key" UNIQUE("stripe_customer_id");--> statement-breakpoint
CREATE INDEX "billing_subscriptions_org_idx" ON "billing_subscriptions" ("organisation_id");--> statement-breakpoint
CREATE INDEX "usage_alerts_org_idx" ON "usage_alerts" ("organisation_id","at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
ALTER TABLE "billing_subscriptions" ADD CONSTRAINT "billing_subscriptions_organisation_id_organisations_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id");--> statement-breakpoint
ALTER TABLE "plan_key_redemptions" ADD CONSTRAINT "plan_key_redemptions_organisation_id_organisations_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id");--> statement-breakpoint
ALTER TABLE "usage_alert_state" ADD CONSTRAINT "usage_alert_state_organisation_id_organisations_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id");--> statement-breakpoint
ALTER TABLE "usage_alerts" ADD CONSTRAINT "usage_alerts_organisation_id_organisations_id_fkey" FOREIGN KEY ("organisation_id") REFERENCES "organisations"("id");