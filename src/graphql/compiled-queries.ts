import { useGraphQlJit } from '@envelop/graphql-jit';
import {
  type DocumentNode,
  GraphQLError,
  getOperationAST,
  getVariableValues,
  type Source,
} from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';

/** A document runs compiled from its second execution on: one sent once is not worth compiling. */
export const COMPILE_FROM_EXECUTION = 2;

/**
 * Queries run as code compiled once per document (graphql-jit): the nested tenants read spent
 * about a third of its CPU walking the document and the schema again for every row (graphql-js
 * execution, its info objects and argument maps). Yoga's parse and validation caches hand the
 * same document object back for the same text, so a client's repeated query compiles once.
 *
 * Only what graphql-js would answer the same way: queries (mutations run one field after
 * another, subscriptions stream; both stay on graphql-js), whose variables coerce. A variable
 * error is a request error (status 400) with graphql-js's own words, which graphql-jit would
 * report as an execution error: such a request runs uncompiled and fails exactly as before.
 * Its errors then take graphql-js's shape (graphqlJsErrors below).
 */
export function useCompiledQueries(): Plugin[] {
  return [compileKnownQueries(), graphqlJsErrors];
}

function compileKnownQueries(): Plugin {
  const executions = new WeakMap<DocumentNode, number>();
  return useGraphQlJit(
    {},
    {
      enableIf: ({ schema, document, operationName, variableValues }) => {
        const operation = getOperationAST(document, operationName);
        if (operation?.operation !== 'query') return false;
        const seen = (executions.get(document) ?? 0) + 1;
        if (seen < COMPILE_FROM_EXECUTION) {
          executions.set(document, seen);
          return false;
        }
        const definitions = operation.variableDefinitions;
        if (!definitions?.length) return true;
        return !getVariableValues(schema, definitions, variableValues ?? {}).errors;
      },
    },
  ) as Plugin;
}

/**
 * A compiled query's errors in graphql-js's shape: listed before data, and located by source
 * and positions (graphql-jit gives line and column only, which Yoga's result processor drops
 * when it rebuilds an error from its nodes or source). Runs before the request IDs are marked.
 */
const graphqlJsErrors: Plugin = {
  onExecute: ({ args }) => ({
    onExecuteDone: (payload) =>
      handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => {
        if (!result.errors || Object.keys(result)[0] === 'errors') return;
        const { errors, data, ...rest } = result;
        const source = args.document.loc?.source;
        setResult({ errors: errors.map((e) => locatedIn(source, e)), data, ...rest });
      }),
  }),
};

function locatedIn(source: Source | undefined, error: GraphQLError): GraphQLError {
  if (!source || error.nodes || error.positions || !error.locations?.length) return error;
  const lineStarts = [0];
  for (const match of source.body.matchAll(/\r\n|[\n\r]/g)) {
    lineStarts.push(match.index + match[0].length);
  }
  return new GraphQLError(error.message, {
    source,
    positions: error.locations.map(({ line, column }) => (lineStarts[line - 1] ?? 0) + column - 1),
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}
