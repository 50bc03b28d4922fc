-- Every tick rewrites each tenant's usage_current row and the open day's roll-up row of each
-- tenant and organisation (and the open hour's of each organisation). With room on its page the
-- new version stays there (a HOT update: no index entry, and the page's dead versions are pruned
-- in passing); on a full page each rewrite moves the row and adds an index entry. The tenants'
-- hourly table keeps the default: its past hours never change again, so their pages would stay
-- half empty for the whole retention (measured in the README). Applies to pages written from now
-- on: no table is rewritten.
ALTER TABLE "usage_current" SET (fillfactor = 50);--> statement-breakpoint
ALTER TABLE "usage_daily" SET (fillfactor = 50);--> statement-breakpoint
ALTER TABLE "usage_org_hourly" SET (fillfactor = 50);--> statement-breakpoint
ALTER TABLE "usage_org_daily" SET (fillfactor = 50);
