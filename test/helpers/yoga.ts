import type { App } from '../../src/app.ts';
import { createGraphQLServer } from '../../src/graphql/yoga.ts';
import { createLogger } from '../../src/lib/logger.ts';

/** A Yoga server over a test app's own services, for running operations through its envelop without HTTP. */
export function yogaOf(app: App) {
  return createGraphQLServer({
    config: app.config,
    db: app.database.db,
    services: app.services,
    logger: createLogger('silent'),
  });
}
