import { graphql } from '../../graphql.ts';

export const BillingQuery = graphql(`
  query Billing {
    billing {
      stripeConfigured
      plan
      hasStripeCustomer
      planKeysEnabled
      limits {
        limit
        used
        max
        percent
        projected
      }
      alerts {
        id
        limit
        threshold
        used
        max
        at
      }
    }
  }
`);

export const StartCheckoutMutation = graphql(`
  mutation StartCheckout($plan: BillingPlan!) {
    startCheckout(plan: $plan) {
      __typename
      ... on BillingUrl {
        url
      }
      ... on Error {
        message
      }
    }
  }
`);

export const BillingPortalMutation = graphql(`
  mutation BillingPortal {
    billingPortalUrl {
      __typename
      ... on BillingUrl {
        url
      }
      ... on Error {
        message
      }
    }
  }
`);

export const RedeemPlanKeyMutation = graphql(`
  mutation RedeemPlanKey($key: String!) {
    redeemPlanKey(key: $key) {
      __typename
      ... on PlanKeyRedeemed {
        checkoutUrl
        organisation {
          id
          billingPlan
        }
      }
      ... on Error {
        message
      }
    }
  }
`);
