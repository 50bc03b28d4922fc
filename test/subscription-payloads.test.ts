import {
  type GraphQLNamedType,
  getNamedType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/graphql/schema.ts';

/**
 * A subscription's result is executed once per audience with its first subscriber's context
 * (src/graphql/shared-subscriptions.ts): a field below a subscription that read the viewer (a
 * role, a user, a nested list authorized per session) would hand one subscriber's answer to
 * the rest of the organisation. Payloads are kept to the event's own figures: leaf fields
 * without arguments. A payload that needs more must first take the viewer into the audience key.
 */
describe('subscription payloads', () => {
  it('hold only leaf fields without arguments, so a shared result is the same for every viewer', () => {
    const subscription = schema.getSubscriptionType();
    expect(subscription).toBeDefined();
    const offending: string[] = [];
    const payloads = new Set<GraphQLNamedType>();
    for (const field of Object.values(subscription!.getFields())) {
      payloads.add(getNamedType(field.type));
    }
    expect(payloads.size).toBeGreaterThan(0);
    for (const payload of payloads) {
      if (!isObjectType(payload)) {
        offending.push(`${payload.name} is not an object type`);
        continue;
      }
      for (const field of Object.values(payload.getFields())) {
        const where = `${payload.name}.${field.name}`;
        if (!isLeafType(getNamedType(field.type))) offending.push(`${where} is not a leaf`);
        if (isListType(isNonNullType(field.type) ? field.type.ofType : field.type))
          offending.push(`${where} is a list`);
        if (field.args.length > 0) offending.push(`${where} takes arguments`);
      }
    }
    expect(offending).toEqual([]);
  });
});
