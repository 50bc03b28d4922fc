import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';

const STRIPE = {
  STRIPE_SECRET_KEY: 'sk_test_abc',
  STRIPE_WEBHOOK_SECRET: 'whsec_abc',
  STRIPE_PRICE_SCALE: 'price_123',
};

describe('billing configuration', () => {
  it('is off by default: no Stripe, no plan keys, return URL from HOST and PORT', () => {
    expect(loadConfig({ PORT: '4310' }).billing).toEqual({
      stripe: undefined,
      returnUrl: 'http://127.0.0.1:4310/',
      planKeys: [],
    });
  });

  it('reads Stripe and plan keys, STRIPE_API_URL split for the client', () => {
    const config = loadConfig({
      ...STRIPE,
      STRIPE_API_URL: 'http://127.0.0.1:12111',
      BILLING_PLAN_KEYS: ' scale=TRAIN-SCALE-2026 , scale=OTHER_KEY_1 ',
    });
    expect(config.billing.stripe).toEqual({
      secretKey: 'sk_test_abc',
      webhookSecret: 'whsec_abc',
      prices: { scale: 'price_123' },
      api: { host: '127.0.0.1', port: 12111, protocol: 'http' },
    });
    expect(config.billing.planKeys).toEqual([
      { plan: 'scale', key: 'TRAIN-SCALE-2026' },
      { plan: 'scale', key: 'OTHER_KEY_1' },
    ]);
  });

  it('refuses half a Stripe setup, wrong key kinds and bad plan keys, naming the variable', () => {
    expect(() => loadConfig({ STRIPE_SECRET_KEY: 'sk_test_abc' })).toThrow(
      'STRIPE_WEBHOOK_SECRET, STRIPE_PRICE_SCALE: required with STRIPE_SECRET_KEY (Stripe billing needs all three)',
    );
    expect(() => loadConfig({ ...STRIPE, STRIPE_SECRET_KEY: 'pk_test_abc' })).toThrow(
      'STRIPE_SECRET_KEY: must be a Stripe secret or restricted key',
    );
    expect(() => loadConfig({ ...STRIPE, STRIPE_WEBHOOK_SECRET: 'abc' })).toThrow(
      'STRIPE_WEBHOOK_SECRET: must be',
    );
    expect(() => loadConfig({ STRIPE_API_URL: 'http://x' })).toThrow(
      'STRIPE_API_URL: only with STRIPE_SECRET_KEY set',
    );
    for (const [value, message] of [
      ['TRAIN-SCALE-2026', 'BILLING_PLAN_KEYS: "TRAIN-SCALE-2026" is not plan=key'],
      ['gold=TRAIN-SCALE-2026', 'BILLING_PLAN_KEYS: "gold" is not a plan (free, scale)'],
      ['free=TRAIN-SCALE-2026', 'BILLING_PLAN_KEYS: a key cannot name the free plan'],
      ['scale=short', 'BILLING_PLAN_KEYS: the key for scale must be 8 to 100'],
      ['scale=has space key', 'BILLING_PLAN_KEYS: the key for scale must be 8 to 100'],
      ['scale=SAME-KEY-123,scale=SAME-KEY-123', 'BILLING_PLAN_KEYS: a key is listed twice'],
    ]) {
      expect(() => loadConfig({ BILLING_PLAN_KEYS: value! })).toThrow(message!);
    }
  });
});
