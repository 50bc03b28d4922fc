import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLError } from 'graphql';
import { markRequestError } from './document-errors.ts';

/** The operation limits, one code each, documented in the README (GraphQL section). */
export const ARMOR_LIMITS = {
  // Relay-shaped queries are deep (connection -> edges -> node -> relation -> field).
  maxDepth: 12,
  maxAliases: 20,
  maxTokens: 2000,
  maxCost: 20_000,
};

/**
 * graphql-armor throws a bare GraphQLError titled "Syntax Error: ..." for every limit. Each
 * refusal gets its own code and the status of any other invalid document (400 with
 * application/graphql-response+json), and loses the prefix: a limit is not a syntax error.
 */
const refuseAs = (code: string) => [
  (_context: unknown, error: GraphQLError) => {
    error.message = error.message.replace(/^Syntax Error: /, '');
    markRequestError(error, code);
  },
];

export function armorPlugin() {
  return EnvelopArmorPlugin({
    maxDepth: { n: ARMOR_LIMITS.maxDepth, onReject: refuseAs('DEPTH_LIMIT_EXCEEDED') },
    maxAliases: { n: ARMOR_LIMITS.maxAliases, onReject: refuseAs('ALIAS_LIMIT_EXCEEDED') },
    maxTokens: { n: ARMOR_LIMITS.maxTokens, onReject: refuseAs('TOKEN_LIMIT_EXCEEDED') },
    costLimit: { maxCost: ARMOR_LIMITS.maxCost, onReject: refuseAs('COST_LIMIT_EXCEEDED') },
    maxDirectives: { onReject: refuseAs('DIRECTIVE_LIMIT_EXCEEDED') },
    blockFieldSuggestion: { enabled: false },
  });
}
