import { z } from 'zod';
import { MAX_BODY_BYTES } from './body.ts';
import { PLAN_LIMIT_STATUS } from './errors.ts';
import type { RestRoute } from './rest-router.ts';

type JsonSchema = Record<string, unknown>;

/** The request side of a schema (what clients send), without the top-level $schema key. */
function inputSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
}

function outputSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });
  return rest;
}

const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string', description: 'Stable code, e.g. validation_error, not_found.' },
    message: { type: 'string' },
    field: { type: 'string', description: 'validation_error only: the offending field.' },
  },
};

const ERROR_STATUSES: Record<string, string> = {
  '400': 'invalid_json or validation_error (with `field`)',
  '401': 'unauthenticated (missing, invalid or expired token) or invalid_credentials',
  '403': 'forbidden (e.g. a viewer changing something)',
  '404': 'not_found (also for objects of another organisation)',
  '405': 'method_not_allowed (see the Allow header)',
  '409': 'conflict (e.g. the email is taken)',
  [String(PLAN_LIMIT_STATUS)]: 'plan_limit_exceeded (with plan, limit, max)',
  '413': `payload_too_large (bodies over ${MAX_BODY_BYTES} bytes)`,
  '415': 'unsupported_media_type (send Content-Type: application/json)',
  '429': 'too_many_requests (login, signup, password change; see Retry-After)',
  '503': 'unavailable (a dependency is busy or down; retry after Retry-After seconds)',
};

function operation(route: RestRoute): JsonSchema {
  const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const query = route.query ? inputSchema(route.query) : undefined;
  const queryParams = Object.entries((query?.properties ?? {}) as Record<string, JsonSchema>).map(
    ([name, schema]) => ({ name, in: 'query', required: false, schema }),
  );
  const statuses = [
    400,
    404,
    405,
    ...(route.auth ? [401, 403] : []),
    ...(route.body ? [413, 415] : []),
    ...(route.rawBody ? [413] : []),
    ...(route.errors ?? []),
  ];
  const errors = Object.fromEntries(
    [...new Set(statuses)]
      .sort()
      .map((status) => [status, { $ref: `#/components/responses/Error${status}` }]),
  );
  return {
    summary: route.summary,
    tags: [route.tag],
    ...(route.auth ? { security: [{ bearer: [] }] } : { security: [] }),
    parameters: [...pathParams, ...queryParams],
    ...(route.rawBody
      ? {
          'x-raw-body': true,
          requestBody: {
            required: true,
            description: 'Verified byte for byte against a signature header; not parsed first.',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        }
      : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: inputSchema(route.body) } },
          },
        }
      : {}),
    responses: {
      [String(route.status ?? 200)]: {
        description: 'Success',
        content: { 'application/json': { schema: outputSchema(route.response) } },
      },
      ...errors,
    },
  };
}

/** OpenAPI 3.1 (JSON Schema 2020-12) from the route table: the same zod objects that validate. */
export function buildOpenApi(routes: RestRoute[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'xScaler Portal REST API',
      version: '1.0.0',
      description:
        'The REST routes of the tenant administration guide, plus the GraphQL features in the same style. Errors are {"error": "<code>", "message": "..."}.',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The token from POST /auth/login.',
        },
      },
      schemas: { Error: errorSchema },
      responses: Object.fromEntries(
        Object.entries(ERROR_STATUSES).map(([status, description]) => [
          `Error${status}`,
          {
            description,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
          },
        ]),
      ),
    },
  };
}
