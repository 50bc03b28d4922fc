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

/**
 * Yoga JSON.parses `variables` and `extensions` of a GET query string without a catch:
 * malformed JSON there came out as a masked internal error, logged with a stack. A JSON body's
 * own mistakes already get a clear 400; these now do too. (Form POSTs, parsed the same way by
 * Yoga, are refused with 415 before this runs: see yoga.ts.)
 */
export function useParamJsonErrors(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (requestParser && request.method === 'GET') {
        setRequestParser((req) => paramsOf(new URL(req.url).searchParams));
      }
    },
  };
}
