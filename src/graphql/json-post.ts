import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendNodeResponse } from '@whatwg-node/server';
import { type ExecutionResult, type GraphQLError, getOperationAST } from 'graphql';
import { processRegularResult } from 'graphql-yoga';
import { type CorsPolicy, corsPolicy } from '../http/cors.ts';
import type { Logger } from '../lib/logger.ts';
import { markRequestId } from './request-ids.ts';
import { createErrorMasker, type GraphQLServer, MAX_REQUEST_BYTES } from './yoga.ts';

/** The request as API clients send it; anything else (browsers, streams, other types) goes to Yoga. */
const PLAIN_ACCEPT = new Set([undefined, '*/*', 'application/json']);
const PARAM_NAMES = new Set(['query', 'variables', 'operationName', 'extensions']);
/** As Yoga's node adapter sends its responses (its default). */
const SINGLE_WRITE_HEAD = true;

interface Params {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  extensions?: Record<string, unknown> | null;
}

/**
 * `/graphql`. A JSON POST from an API client (no Origin, a Content-Length, Accept JSON or any) is
 * answered without Yoga's fetch layer: a Request, a body stream and a Response per call cost
 * about a seventh of a nested read's CPU. The operation still runs through Yoga's envelop
 * (`getEnveloped`: armor limits, parse and validation caches, error masking, the context).
 * Whatever is not a valid query or mutation goes to Yoga with the body already read, and a
 * result with errors is shaped by Yoga's own result processor, so every error answer, status
 * and header stays exactly Yoga's.
 */
export function createGraphQLHandler(
  yoga: GraphQLServer,
  logger: Logger,
  cors: CorsPolicy = corsPolicy([]),
) {
  const maskError = createErrorMasker(logger);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Browsers' cross-origin requests (Yoga's own CORS is off: it reflects any Origin).
    if (cors.handle(req, res)) return;
    const length = plainJsonPostLength(req);
    if (length === null) return yoga(req, res, { req });
    const body = await readBody(req, length);
    if (!body) return; // the client went away mid-body
    const params = paramsOf(body);
    if (!params) return replayToYoga(yoga, req, res, body);

    const initial = { req, params, authorization: req.headers.authorization ?? null };
    const { parse, validate, contextFactory, execute, schema } = yoga.getEnveloped(initial);
    let document: ReturnType<typeof parse>;
    try {
      document = parse(params.query);
    } catch {
      return replayToYoga(yoga, req, res, body); // syntax error or an armor limit
    }
    const operation = getOperationAST(document, params.operationName);
    if (!operation || operation.operation === 'subscription') {
      return replayToYoga(yoga, req, res, body);
    }
    let valid: boolean;
    try {
      valid = validate(schema, document).length === 0;
    } catch {
      valid = false; // armor's depth and alias limits throw from validation
    }
    if (!valid) return replayToYoga(yoga, req, res, body);
    let contextValue: Awaited<ReturnType<typeof contextFactory>>;
    try {
      contextValue = await contextFactory();
    } catch {
      return replayToYoga(yoga, req, res, body); // nothing has run yet: Yoga answers its way
    }

    // From here the operation runs once, whatever happens: a mutation is never replayed.
    try {
      const result = (await execute({
        schema,
        document,
        contextValue,
        variableValues: params.variables,
        operationName: params.operationName,
      })) as ExecutionResult;
      if (!result.errors && !result.extensions) {
        const json = JSON.stringify(result);
        res.writeHead(200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(json),
        });
        res.end(json);
        return;
      }
      const response = processRegularResult(result, yoga.fetchAPI, 'application/json');
      await sendNodeResponse(response, res, req, SINGLE_WRITE_HEAD);
    } catch (err) {
      // Resolver errors are in the result; this is the executor itself failing. Masked and
      // shaped as Yoga would (a requestId in the answer and in the log).
      if (res.headersSent) return void res.destroy();
      markRequestId(err, contextValue.requestId);
      const result = { errors: [maskError(err) as GraphQLError] };
      const response = processRegularResult(result, yoga.fetchAPI, 'application/json');
      await sendNodeResponse(response, res, req, SINGLE_WRITE_HEAD);
    }
  };
}

/** The declared body length of a request this handler answers itself, or null for Yoga. */
function plainJsonPostLength(req: IncomingMessage): number | null {
  const { headers } = req;
  if (req.method !== 'POST' || headers.origin !== undefined) return null;
  if (!isJsonType(headers['content-type']) || !PLAIN_ACCEPT.has(headers.accept)) return null;
  if (headers['content-encoding'] !== undefined || headers['transfer-encoding'] !== undefined) {
    return null;
  }
  const length = Number(headers['content-length']);
  return Number.isInteger(length) && length > 0 && length <= MAX_REQUEST_BYTES ? length : null;
}

/** Yoga's own test (its request parser), so both doors take exactly the same bodies as JSON. */
function isJsonType(contentType: string | undefined): boolean {
  const first = contentType?.split(',')[0];
  return first === 'application/json' || !!first?.startsWith('application/json;');
}

/** Node has checked the body against Content-Length; null if the client hung up before the end. */
async function readBody(req: IncomingMessage, length: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(chunk as Buffer);
  } catch {
    return null;
  }
  const body = Buffer.concat(chunks);
  return body.length === length ? body : null;
}

const isObjectOrAbsent = (v: unknown) => v == null || (typeof v === 'object' && !Array.isArray(v));

/** GraphQL-over-HTTP parameters in their usual shape, or null to let Yoga judge (and explain). */
function paramsOf(body: Buffer): Params | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const params = parsed as Record<string, unknown>;
  if (Object.keys(params).some((name) => !PARAM_NAMES.has(name))) return null;
  if (typeof params.query !== 'string' || params.query === '') return null;
  if (!isObjectOrAbsent(params.variables) || !isObjectOrAbsent(params.extensions)) return null;
  if (params.operationName != null && typeof params.operationName !== 'string') return null;
  return params as unknown as Params;
}

/** Hands a request whose body is already read to Yoga, as if it had come to Yoga directly. */
async function replayToYoga(
  yoga: GraphQLServer,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
): Promise<void> {
  // From req.headers, as Yoga's node adapter reads them (Node keeps the first of duplicates).
  const headers = new yoga.fetchAPI.Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      headers.append(name, one);
    }
  }
  const request = new yoga.fetchAPI.Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, {
    method: 'POST',
    headers,
    body: body.toString('utf8'),
  });
  await sendNodeResponse(
    await yoga.handleRequest(request, { req, res }),
    res,
    req,
    SINGLE_WRITE_HEAD,
  );
}
