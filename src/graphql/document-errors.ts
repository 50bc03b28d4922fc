import { GraphQLError, Lexer, Source, TokenKind } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * GraphQL-over-HTTP answers for documents that cannot run: 400 with `application/graphql-response+json`,
 * 200 with `application/json` (the spec's legacy rule, `spec: true`), and a code in every case.
 */
export function markRequestError(error: GraphQLError, code: string): GraphQLError {
  // Yoga's own plugins mark errors this way too (GraphQLError.extensions is a plain object).
  const extensions = error.extensions as Record<string, unknown>;
  extensions.code ??= code;
  extensions.http ??= {};
  const http = extensions.http as { spec?: boolean; status?: number };
  http.spec ??= true;
  http.status ??= 400;
  return error;
}

/**
 * Yoga marks a syntax error (GRAPHQL_PARSE_FAILED, 400) only when its context holds a fetch
 * Request, but the parse cache keeps the error object for every later request: a document that
 * first came through the JSON POST door (or graphql-ws) was then answered 200 with no code on
 * Yoga's door too. Marking it on every door makes the cached error the same whoever parsed it.
 */
export function useParseErrorCodes(): Plugin {
  return {
    onParse() {
      return ({ result }) => {
        if (result instanceof GraphQLError) markRequestError(result, 'GRAPHQL_PARSE_FAILED');
      };
    },
  };
}

/** Deeper than any real operation; far below where graphql-js's recursive parser overflows. */
export const MAX_NESTING = 100;

/** More openers than this anywhere in a document is the only way to nest past the limit. */
function openers(source: string): number {
  let count = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x7b || c === 0x5b || c === 0x28) count++; // { [ (
  }
  return count;
}

/**
 * How deep `{`, `[` and `(` nest in a document (graphql-js's lexer, so strings and comments do
 * not count); stops past `limit`. graphql-js parses values and selections recursively: a list
 * literal ~2,000 deep (4 KB, under the token limit) overflows the stack, an internal error.
 */
export function nestingDepth(source: string, limit = MAX_NESTING): number {
  const lexer = new Lexer(new Source(source));
  let depth = 0;
  let deepest = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (OPEN.has(token.kind)) {
        depth++;
        if (depth > deepest) deepest = depth;
        if (deepest > limit) break;
      } else if (CLOSE.has(token.kind)) {
        depth--;
      }
    }
  } catch {
    // A lexical error: the parser reports it, at the depth it occurs.
  }
  return deepest;
}

const OPEN = new Set<string>([TokenKind.BRACE_L, TokenKind.BRACKET_L, TokenKind.PAREN_L]);
const CLOSE = new Set<string>([TokenKind.BRACE_R, TokenKind.BRACKET_R, TokenKind.PAREN_R]);

/** Refuses a document nested deeper than MAX_NESTING before graphql-js parses it. */
export function useNestingLimit(limit = MAX_NESTING): Plugin {
  return {
    onParse({ params }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      // Few enough openers cannot nest past the limit: most documents are never lexed twice.
      if (openers(source) <= limit || nestingDepth(source, limit) <= limit) return;
      throw markRequestError(
        new GraphQLError(
          `Document nested too deep: at most ${limit} levels of {, [ and ( are allowed.`,
        ),
        'NESTING_TOO_DEEP',
      );
    },
  };
}

/**
 * A variable value that does not fit its type ("Variable "$v" got invalid value ..."), as
 * graphql-tools' executor reports it: located at the variable's definition, no path, HTTP 400
 * without the spec flag (so `application/json` would get 400 too). It is a request error like
 * a validation error: BAD_USER_INPUT, 400 with graphql-response+json, 200 with application/json.
 */
export function markVariableError(error: GraphQLError): GraphQLError {
  const http = error.extensions.http as { status?: number } | undefined;
  if (error.path === undefined && error.nodes?.length && http?.status === 400) {
    markRequestError(error, 'BAD_USER_INPUT');
  }
  return error;
}
