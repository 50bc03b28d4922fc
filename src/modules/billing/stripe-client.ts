import Stripe from 'stripe';
import type { BillingConfig } from '../../config.ts';

export type StripeClient = Stripe;
export type StripeEvent = Stripe.Event;
export type StripeSubscription = Stripe.Subscription;
export type StripeCheckoutSession = Stripe.Checkout.Session;
export type StripeInvoice = Stripe.Invoice;

/** Webhook signatures older than this are refused (Stripe's own default). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * The official client, pinned to the package's API version. `STRIPE_API_URL` points it at
 * another host (tests: a local fixture answering like Stripe). One network retry: Checkout
 * and the portal are interactive, a user waiting should get an answer in seconds.
 */
export function createStripeClient(stripe: NonNullable<BillingConfig['stripe']>): StripeClient {
  return new Stripe(stripe.secretKey, {
    ...(stripe.api ?? {}),
    maxNetworkRetries: 1,
    timeout: 10_000,
    telemetry: false,
  });
}

export const isSignatureError = (err: unknown): err is Error =>
  err instanceof Stripe.errors.StripeSignatureVerificationError;
export const isStripeError = (err: unknown): err is Error =>
  err instanceof Stripe.errors.StripeError;
