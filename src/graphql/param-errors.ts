import { GraphQLError } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';

const badRequest = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });

/** A JSON-valued parameter, parsed; a clear 400 naming it when it is not JSON. */
function jsonParam(params: URLSearchParams, name: 'variables' | 'extensions') {
  const value = params.get(name);
  if (!value) return undefined;
  try {
    return JSON.parse(value);
  } catch (error) {
    throw badRequest(`The "${name}" parameter is not valid JSON: ${(error as Error).message}`);
  }
}

/** Yoga's reading of query-string parameters (handleURLSearchParams), with that one change. */
function paramsOf(params: URLSearchParams): GraphQLParams {
  return {
    operationName: params.get('operationName') || undefined,
    query: params.get('query') || undefined,
    variables: jsonParam(params, 'variables'),
    extensions: jsonParam(params, 'extensions'),
  };
}

/** Yoga's own test (isContentTypeMatch), so this takes over exactly the requests its form parser would. */
function isFormType(contentType: string | null): boolean {
  const first = contentType?.split(',')[0];
  const form = 'application/x-www-form-urlencoded';
  return first === form || !!first?.startsWith(`${form};`);
}

/**
 * Yoga JSON.parses `variables` and `extensions` of a GET query string and of a urlencoded form
 * POST without a catch: malformed JSON there came out as a masked internal error, logged with a
 * stack. A JSON body's own mistakes already get a clear 400; these now do too. Replaces Yoga's
 * parser for exactly the requests it would have chosen it for (its shape checks follow).
 */
export function useParamJsonErrors(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (!requestParser) return;
      if (request.method === 'GET') {
        setRequestParser((req) => paramsOf(new URL(req.url).searchParams));
      } else if (request.method === 'POST' && isFormType(request.headers.get('content-type'))) {
        setRequestParser(async (req) => paramsOf(new URLSearchParams(await req.text())));
      }
    },
  };
}
