import { graphql } from '../graphql.ts';

const AuthPayloadFields = graphql(`
  fragment AuthPayloadFields on AuthPayload {
    token
    expiresAt
    refreshToken
    sessionExpiresAt
    user {
      id
      email
      role
    }
  }
`);

export const LoginMutation = graphql(
  `
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      __typename
      ... on AuthPayload {
        ...AuthPayloadFields
      }
      ... on InvalidCredentialsError {
        message
      }
      ... on RateLimitedError {
        message
        retryAfterSeconds
      }
      ... on ValidationError {
        field
        message
      }
    }
  }
`,
  [AuthPayloadFields],
);

export const SignupMutation = graphql(
  `
  mutation Signup($organisationName: String!, $email: String!, $password: String!) {
    signup(organisationName: $organisationName, email: $email, password: $password) {
      __typename
      ... on AuthPayload {
        ...AuthPayloadFields
      }
      ... on InvalidCredentialsError {
        message
      }
      ... on RateLimitedError {
        message
        retryAfterSeconds
      }
      ... on ValidationError {
        field
        message
      }
    }
  }
`,
  [AuthPayloadFields],
);

export { AuthPayloadFields };

/** Who is signed in and in which organisation: what the header shows. */
export const ViewerQuery = graphql(`
  query Viewer {
    me {
      id
      email
      role
    }
    organisation {
      id
      name
      billingPlan
      planLimits {
        maxTenants
        maxApiKeysPerTenant
        maxActiveSeries
        maxLogsGbPerMonth
      }
    }
  }
`);
