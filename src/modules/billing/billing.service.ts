import { createHash, timingSafeEqual } from 'node:crypto';
import { eq } from 'drizzle-orm';
import {
  billingSubscriptions,
  type OrganisationRow,
  organisations,
  planKeyRedemptions,
  stripeEvents,
} from '../../db/schema.ts';
import type { Deps, Tx } from '../../lib/deps.ts';
import {
  ConflictError,
  RateLimitedError,
  ServiceUnavailableError,
  ValidationError,
} from '../../lib/errors.ts';
import { parseInput } from '../../lib/validation.ts';
import { type AuditActor, recordAudit } from '../audit/audit.service.ts';
import { AttemptCounter, slidingWindow } from '../auth/attempt-counter.ts';
import { requireOwner, type Session } from '../auth/session.ts';
import { lockOrganisationPlan } from '../organisations/plan-lock.ts';
import { BILLING_PLANS, type BillingPlan } from '../organisations/plans.ts';
import { checkoutSchema, type PaidPlan, redeemSchema } from './billing.schemas.ts';
import { type LimitUsage, limitUsages, readLimitFigures } from './limit-usage.ts';
import type { PlanKey } from './plan-keys.ts';
import {
  isSignatureError,
  isStripeError,
  type StripeCheckoutSession,
  type StripeClient,
  type StripeEvent,
  type StripeInvoice,
  type StripeSubscription,
  WEBHOOK_TOLERANCE_SECONDS,
} from './stripe-client.ts';

/** Wrong plan keys per organisation: like logins, counted in the database for every instance. */
export const REDEEM_LIMIT = slidingWindow(10, 15 * 60_000);

export const HANDLED_EVENTS = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.payment_failed',
] as const;

/** Subscription statuses that pay for the plan; past_due keeps it through Stripe's retries. */
const PAYING = new Set(['active', 'trialing']);
const KEEPS_PLAN = new Set(['past_due', 'incomplete']);

export type WebhookOutcome = 'applied' | 'duplicate' | 'stale' | 'ignored';

export interface BillingStatus {
  stripeConfigured: boolean;
  plan: BillingPlan;
  /** True once a Checkout completed: the Customer Portal can be opened. */
  hasStripeCustomer: boolean;
  planKeysEnabled: boolean;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const idOf = (v: string | { id: string } | null | undefined) =>
  typeof v === 'string' ? v : (v?.id ?? null);

/**
 * Plans from Stripe: Checkout and the Customer Portal on the way out, signed webhooks on the
 * way back. Without Stripe configured, owners change plans with changePlan (and plan keys);
 * with it, only Stripe's events do.
 */
export function createBillingService(
  { db, clock, logger, config }: Deps,
  stripe: StripeClient | undefined,
) {
  const log = logger.child({ component: 'billing' });
  const attempts = new AttemptCounter(db, clock);
  const { returnUrl, planKeys } = config.billing;
  const priceConfig = config.billing.stripe?.prices;
  const resolvedPrices = new Map<string, string>();

  const requireStripe = (what: string): StripeClient => {
    if (!stripe) {
      throw new ConflictError(
        `${what} needs Stripe billing, which is not configured on this server; owners change the plan with changePlan or a plan key`,
      );
    }
    return stripe;
  };

  /** A Stripe call failing is Stripe's, not the user's: 503, with the detail in our log only. */
  const callStripe = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      if (!isStripeError(err)) throw err;
      log.warn({ during: what, error: err.message }, 'Stripe call failed');
      throw new ServiceUnavailableError(`Stripe could not ${what} just now; try again shortly`, 5);
    }
  };

  /** A `price_...` ID as is; a lookup key is looked up once and remembered. */
  const priceId = async (client: StripeClient, plan: PaidPlan): Promise<string> => {
    const configured = priceConfig![plan];
    if (configured.startsWith('price_')) return configured;
    const known = resolvedPrices.get(configured);
    if (known) return known;
    const { data } = await callStripe('look up the price', () =>
      client.prices.list({ lookup_keys: [configured], active: true, limit: 1 }),
    );
    if (!data[0]) {
      log.error({ lookupKey: configured }, 'STRIPE_PRICE_SCALE names no active price');
      throw new ServiceUnavailableError('Billing is misconfigured; the operator has the details');
    }
    resolvedPrices.set(configured, data[0].id);
    return data[0].id;
  };

  /** Which plan a subscription's items pay for: the item whose price is a configured one. */
  const planOfSubscription = (sub: StripeSubscription): BillingPlan | undefined => {
    for (const item of sub.items?.data ?? []) {
      const price = item.price;
      for (const [plan, configured] of Object.entries(priceConfig ?? {})) {
        if (price?.id === configured || price?.lookup_key === configured) {
          return plan as BillingPlan;
        }
      }
    }
    return undefined;
  };

  const loadOrganisation = async (id: string): Promise<OrganisationRow> => {
    const [org] = await db.select().from(organisations).where(eq(organisations.id, id));
    return org!;
  };

  const createCheckout = async (
    session: Session,
    plan: PaidPlan,
    promotionCode?: string,
  ): Promise<string> => {
    const client = requireStripe('Checkout');
    const org = await loadOrganisation(session.organisationId);
    const price = await priceId(client, plan);
    const metadata = { organisation_id: org.id, plan };
    const checkout = await callStripe('start a checkout', () =>
      client.checkout.sessions.create({
        mode: 'subscription',
        line_items: [{ price, quantity: 1 }],
        client_reference_id: org.id,
        ...(org.stripeCustomerId ? { customer: org.stripeCustomerId } : {}),
        // Stripe takes either a code applied now or the field to type one in, not both.
        ...(promotionCode
          ? { discounts: [{ promotion_code: promotionCode }] }
          : { allow_promotion_codes: true }),
        success_url: `${returnUrl}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${returnUrl}?checkout=cancelled`,
        metadata,
        subscription_data: { metadata },
      }),
    );
    if (!checkout.url) throw new ServiceUnavailableError('Stripe returned no checkout URL');
    return checkout.url;
  };

  /** Constant time over every configured key: the answer's timing names no key. */
  const findPlanKey = (key: string): PlanKey | undefined => {
    const digest = sha256(key);
    let found: PlanKey | undefined;
    for (const k of planKeys) if (timingSafeEqual(sha256(k.key), digest)) found = k;
    return found;
  };

  /** Moves the plan (any direction: over-limit organisations keep what they have) and audits it. */
  const setPlan = async (
    tx: Tx,
    actor: AuditActor & { organisationId: string },
    plan: BillingPlan,
  ) => {
    const current = await lockOrganisationPlan(tx, actor.organisationId);
    if (current === plan) return false;
    await tx
      .update(organisations)
      .set({ billingPlan: plan })
      .where(eq(organisations.id, actor.organisationId));
    const object = { type: 'organisation', id: actor.organisationId } as const;
    await recordAudit(tx, actor, 'organisation.plan_changed', object, clock.now());
    return true;
  };

  const organisationExists = async (tx: Tx, id: string | null | undefined) => {
    if (!id) return false;
    const [row] = await tx
      .select({ id: organisations.id })
      .from(organisations)
      .where(eq(organisations.id, id));
    return row !== undefined;
  };

  const organisationOfCustomer = async (tx: Tx, customer: string | null) => {
    if (!customer) return undefined;
    const [row] = await tx
      .select({ id: organisations.id })
      .from(organisations)
      .where(eq(organisations.stripeCustomerId, customer));
    return row?.id;
  };

  /**
   * Records the event against its subscription unless a newer one was applied already (or the
   * subscription ended: deletion is terminal). False = the event is stale and changes nothing.
   */
  const advanceSubscription = async (
    tx: Tx,
    event: StripeEvent,
    subscriptionId: string,
    organisationId: string,
    status: string,
  ): Promise<boolean> => {
    const at = new Date(event.created * 1000);
    const [row] = await tx
      .select()
      .from(billingSubscriptions)
      .where(eq(billingSubscriptions.id, subscriptionId))
      .for('update');
    if (row && (row.status === 'deleted' || row.lastEventAt > at)) return false;
    const values = { status, lastEventAt: at, lastEventId: event.id };
    if (row) {
      await tx
        .update(billingSubscriptions)
        .set(values)
        .where(eq(billingSubscriptions.id, subscriptionId));
    } else {
      await tx
        .insert(billingSubscriptions)
        .values({ id: subscriptionId, organisationId, ...values });
    }
    return true;
  };

  const linkCustomer = async (tx: Tx, organisationId: string, customer: string | null) => {
    if (!customer) return;
    await tx
      .update(organisations)
      .set({ stripeCustomerId: customer })
      .where(eq(organisations.id, organisationId));
  };

  const actorFor = (organisationId: string) => ({ organisationId, userId: null });

  const onCheckoutCompleted = async (tx: Tx, event: StripeEvent) => {
    const checkout = event.data.object as StripeCheckoutSession;
    const orgId = checkout.client_reference_id;
    if (checkout.mode !== 'subscription' || !(await organisationExists(tx, orgId))) {
      log.warn({ event: event.id, orgId }, 'checkout for no organisation of ours; ignored');
      return 'ignored' as const;
    }
    const plan = checkout.metadata?.plan as BillingPlan | undefined;
    const subscription = idOf(checkout.subscription);
    await linkCustomer(tx, orgId!, idOf(checkout.customer));
    const paid =
      checkout.payment_status === 'paid' || checkout.payment_status === 'no_payment_required';
    if (!plan || !BILLING_PLANS.includes(plan) || !subscription || !paid) return 'ignored' as const;
    if (!(await advanceSubscription(tx, event, subscription, orgId!, 'active')))
      return 'stale' as const;
    await setPlan(tx, actorFor(orgId!), plan);
    return 'applied' as const;
  };

  const onSubscription = async (tx: Tx, event: StripeEvent) => {
    const sub = event.data.object as StripeSubscription;
    const customer = idOf(sub.customer);
    const fromMetadata = sub.metadata?.organisation_id;
    const orgId = (await organisationExists(tx, fromMetadata))
      ? fromMetadata!
      : await organisationOfCustomer(tx, customer);
    if (!orgId) {
      log.warn({ event: event.id }, 'subscription of no organisation of ours; ignored');
      return 'ignored' as const;
    }
    const deleted = event.type === 'customer.subscription.deleted';
    const status = deleted ? 'deleted' : sub.status;
    if (!(await advanceSubscription(tx, event, sub.id, orgId, status))) return 'stale' as const;
    await linkCustomer(tx, orgId, customer);
    if (KEEPS_PLAN.has(status)) return 'applied' as const;
    let plan: BillingPlan = 'free';
    if (PAYING.has(status)) {
      const paidFor = planOfSubscription(sub);
      if (!paidFor) {
        log.warn({ event: event.id }, 'subscription pays for no configured price; plan kept');
        return 'applied' as const;
      }
      plan = paidFor;
    }
    await setPlan(tx, actorFor(orgId), plan);
    return 'applied' as const;
  };

  const onPaymentFailed = async (tx: Tx, event: StripeEvent) => {
    const invoice = event.data.object as StripeInvoice;
    const orgId = await organisationOfCustomer(tx, idOf(invoice.customer));
    if (!orgId) return 'ignored' as const;
    // The plan stays: the subscription goes past_due and Stripe retries; canceled/unpaid ends it.
    const object = { type: 'organisation', id: orgId } as const;
    await recordAudit(
      tx,
      actorFor(orgId),
      'organisation.payment_failed',
      object,
      clock.now(),
      'failure',
    );
    return 'applied' as const;
  };

  return {
    stripeConfigured: stripe !== undefined,

    async status(session: Session): Promise<BillingStatus> {
      const org = await loadOrganisation(session.organisationId);
      return {
        stripeConfigured: stripe !== undefined,
        plan: org.billingPlan,
        hasStripeCustomer: org.stripeCustomerId !== null,
        planKeysEnabled: planKeys.length > 0,
      };
    },

    /** Used, max, percent and month-end projection of every limit of the caller's plan. */
    async limits(session: Session): Promise<LimitUsage[]> {
      const [figures] = await readLimitFigures(db, session.organisationId);
      return limitUsages(figures!, clock.now());
    },

    /** Owners only: a Checkout Session (subscription mode) for the plan; returns its URL. */
    async startCheckout(session: Session, input: unknown): Promise<{ url: string }> {
      requireOwner(session);
      const { plan } = parseInput(checkoutSchema, input);
      requireStripe('Checkout');
      const org = await loadOrganisation(session.organisationId);
      if (org.billingPlan === plan) {
        throw new ConflictError(
          `The organisation is on the ${plan} plan already; the billing portal manages the subscription`,
        );
      }
      return { url: await createCheckout(session, plan) };
    },

    /** Owners only: Stripe's Customer Portal for the organisation's customer. */
    async billingPortalUrl(session: Session): Promise<{ url: string }> {
      requireOwner(session);
      const client = requireStripe('The billing portal');
      const org = await loadOrganisation(session.organisationId);
      if (!org.stripeCustomerId) {
        throw new ConflictError(
          'The organisation has no Stripe subscription yet: upgrade with startCheckout first',
        );
      }
      const portal = await callStripe('open the billing portal', () =>
        client.billingPortal.sessions.create({
          customer: org.stripeCustomerId!,
          return_url: returnUrl,
        }),
      );
      return { url: portal.url };
    },

    /**
     * Owners only. A training key (BILLING_PLAN_KEYS) moves the organisation to its plan, once
     * per key and organisation. With Stripe configured the key is a Stripe promotion code: the
     * answer is a Checkout URL with it applied, and the plan moves when Stripe confirms.
     * Wrong keys are counted per organisation like failed logins.
     */
    async redeemPlanKey(
      session: Session,
      input: unknown,
    ): Promise<{ organisation: OrganisationRow; checkoutUrl: string | null }> {
      requireOwner(session);
      const { key } = parseInput(redeemSchema, input);
      const counted = await attempts.take(`plan-key\n${session.organisationId}`, REDEEM_LIMIT);
      if (!counted.ok) {
        throw new RateLimitedError(
          counted.retryAfterSeconds,
          `Too many wrong plan keys; try again in ${counted.retryAfterSeconds} s`,
        );
      }
      const planKey = findPlanKey(key);
      if (!planKey) throw new ValidationError('key', 'key: is not a plan key of this server');
      // A right key does not count against the organisation.
      await attempts.release(counted.id);
      const keyHash = createHash('sha256').update(key).digest('base64url');
      const now = clock.now();
      const redeem = (tx: Tx) =>
        tx
          .insert(planKeyRedemptions)
          .values({
            organisationId: session.organisationId,
            keyHash,
            plan: planKey.plan,
            redeemedAt: now,
          })
          .onConflictDoNothing()
          .returning();
      const used = () =>
        new ConflictError(
          'This organisation has redeemed this plan key already; a key works once per organisation',
        );
      const object = { type: 'organisation', id: session.organisationId } as const;

      if (stripe) {
        const { data } = await callStripe('look up the promotion code', () =>
          stripe.promotionCodes.list({ code: key, active: true, limit: 1 }),
        );
        const promotion = data[0];
        if (!promotion) {
          throw new ValidationError('key', 'key: names no active Stripe promotion code');
        }
        const url = await createCheckout(session, planKey.plan as PaidPlan, promotion.id);
        await db.transaction(async (tx) => {
          await lockOrganisationPlan(tx, session.organisationId);
          if ((await redeem(tx)).length === 0) throw used();
          await recordAudit(tx, session, 'organisation.plan_key_redeemed', object, now);
        });
        return { organisation: await loadOrganisation(session.organisationId), checkoutUrl: url };
      }

      await db.transaction(async (tx) => {
        // The organisation's row lock queues concurrent redemptions; the key's row decides.
        await lockOrganisationPlan(tx, session.organisationId);
        if ((await redeem(tx)).length === 0) throw used();
        await recordAudit(tx, session, 'organisation.plan_key_redeemed', object, now);
        await setPlan(tx, session, planKey.plan);
      });
      return { organisation: await loadOrganisation(session.organisationId), checkoutUrl: null };
    },

    /**
     * A webhook delivery: the signature checked on the raw body, then the event applied at most
     * once (its ID is stored in the transaction that applies it). Unknown types change nothing.
     */
    async receiveWebhook(rawBody: Buffer, signature: string | undefined): Promise<WebhookOutcome> {
      const client = requireStripe('The Stripe webhook');
      if (!signature) {
        throw new ValidationError('stripe-signature', 'stripe-signature: header missing');
      }
      let event: StripeEvent;
      try {
        event = client.webhooks.constructEvent(
          rawBody,
          signature,
          config.billing.stripe!.webhookSecret,
          WEBHOOK_TOLERANCE_SECONDS,
        );
      } catch (err) {
        if (!isSignatureError(err)) throw err;
        // Stripe's first sentence names the problem (no matching signature, timestamp too old).
        const reason = err.message.split(/(?<=\.)\s/)[0];
        throw new ValidationError('stripe-signature', `stripe-signature: ${reason}`);
      }
      if (!(HANDLED_EVENTS as readonly string[]).includes(event.type)) return 'ignored';
      // Signed by Stripe, but a shape we cannot apply is still a clear 400, never a 500.
      const object = (event.data as { object?: unknown } | undefined)?.object;
      if (
        typeof event.id !== 'string' ||
        !Number.isInteger(event.created) ||
        typeof object !== 'object' ||
        object === null
      ) {
        throw new ValidationError(
          'body',
          'body: is not a Stripe event (id, created and data.object are required)',
        );
      }
      const outcome = await db.transaction(async (tx) => {
        const [fresh] = await tx
          .insert(stripeEvents)
          .values({
            id: event.id,
            type: event.type,
            createdAt: new Date(event.created * 1000),
            receivedAt: clock.now(),
          })
          .onConflictDoNothing()
          .returning();
        if (!fresh) return 'duplicate' as const;
        switch (event.type) {
          case 'checkout.session.completed':
            return onCheckoutCompleted(tx, event);
          case 'invoice.payment_failed':
            return onPaymentFailed(tx, event);
          default:
            return onSubscription(tx, event);
        }
      });
      log.info({ event: event.id, type: event.type, outcome }, 'stripe event');
      return outcome;
    },
  };
}

export type BillingService = ReturnType<typeof createBillingService>;
