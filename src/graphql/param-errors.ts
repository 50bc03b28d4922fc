import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const JSON_PARAMS = ['variables', 'extensions'] as const;

/** The JSON-valued parameter that does not parse, if any. */
function malformedParam(params: URLSearchParams): { name: string; reason: string } | undefined {
  for (const name of JSON_PARAMS) {
    const value = params.get(name);
    if (!value) continue;
    try {
      JSON.parse(value);
    } catch (error) {
      return { name, reason: (error as Error).message };
    }
  }
  return undefined;
}

const badRequest = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });

/**
 * Yoga JSON.parses `variables` and `extensions` of a GET query string (and of a urlencoded
 * form POST) without a catch: malformed JSON there came out as a masked internal error, logged
 * with a stack. A JSON body's own mistakes already get a clear 400; these now do too, naming
 * the parameter.
 */
export function useParamJsonErrors(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      const isForm = !!request.headers
        .get('content-type')
        ?.startsWith('application/x-www-form-urlencoded');
      if (!requestParser || (request.method !== 'GET' && !isForm)) return;
      // The form body is read once by the parser: keep a copy to name the bad field afterwards.
      const copy = isForm ? request.clone() : undefined;
      setRequestParser(async (req) => {
        try {
          return await requestParser(req);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          const params = copy
            ? new URLSearchParams(await copy.text())
            : new URL(request.url).searchParams;
          const bad = malformedParam(params);
          throw badRequest(
            bad
              ? `The "${bad.name}" parameter is not valid JSON: ${bad.reason}`
              : `A request parameter is not valid JSON: ${error.message}`,
          );
        }
      });
    },
  };
}
