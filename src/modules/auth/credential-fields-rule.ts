import {
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Mutation fields that check a password or a credential (each login/signup runs scrypt). */
export const CREDENTIAL_FIELDS: ReadonlySet<string> = new Set([
  'login',
  'signup',
  'changePassword',
  'refreshToken',
]);

/**
 * At most one credential-checking field per operation: twenty aliased `login`s would be twenty
 * full password hashes for one request, and twenty guesses past the per-request view of the
 * limits. Counted over the operation's root fields, through fragments, whatever @skip says.
 */
export const oneCredentialFieldPerOperation: ValidationRule = (context) => {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of context.getDocument().definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  const rootFields = (set: SelectionSetNode, seen: Set<string>, out: string[]): string[] => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (CREDENTIAL_FIELDS.has(selection.name.value)) out.push(selection.name.value);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        rootFields(selection.selectionSet, seen, out);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment && !seen.has(name)) {
          seen.add(name);
          rootFields(fragment.selectionSet, seen, out);
        }
      }
    }
    return out;
  };
  return {
    OperationDefinition(operation) {
      const found = rootFields(operation.selectionSet, new Set(), []);
      if (found.length <= 1) return;
      context.reportError(
        new GraphQLError(
          `At most one credential field (${[...CREDENTIAL_FIELDS].join(', ')}) per operation; this one has ${found.length} (${found.join(', ')}): send them as separate requests`,
          { nodes: operation, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
        ),
      );
    },
  };
};

/** Registers the rule with Yoga (HTTP, the JSON POST door and graphql-ws all validate through it). */
export const useOneCredentialFieldPerOperation = (): Plugin => ({
  onValidate({ addValidationRule }) {
    addValidationRule(oneCredentialFieldPerOperation);
  },
});
