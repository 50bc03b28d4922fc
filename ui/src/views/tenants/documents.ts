import { graphql, type ResultOf } from '../../graphql.ts';

export const TenantsQuery = graphql(`
  query Tenants($environment: Environment, $search: String) {
    tenants(first: 100, environment: $environment, search: $search) {
      totalCount
      edges {
        node {
          id
          displayName
          environment
          status
          region
          createdAt
          usage {
            activeSeries
          }
        }
      }
    }
    all: tenants {
      totalCount
    }
    organisation {
      id
      billingPlan
      planLimits {
        maxTenants
      }
    }
  }
`);

export const RegionsQuery = graphql(`
  query Regions {
    regions {
      name
      isDefault
    }
  }
`);

export const CreateTenantMutation = graphql(`
  mutation CreateTenant($displayName: String!, $environment: Environment!, $region: String) {
    createTenant(displayName: $displayName, environment: $environment, region: $region) {
      __typename
      ... on Tenant {
        id
        displayName
        environment
        region
      }
      ... on ValidationError {
        field
        message
      }
      ... on PlanLimitExceededError {
        message
        plan
        limit
        max
      }
    }
  }
`);

export const TenantQuery = graphql(`
  query Tenant($id: ID!) {
    tenant(id: $id) {
      __typename
      ... on Tenant {
        id
        displayName
        environment
        status
        region
        metricsHost
        logsHost
        tracesHost
        createdAt
        updatedAt
        usage {
          activeSeries
          logsGbThisMonth
          tracesGbThisMonth
          syncedAt
        }
        clientConfig {
          prometheusRemoteWrite
          grafanaAlloy
          openTelemetryCollector
        }
        apiKeys {
          id
          displayName
          prefix
          scopes
          status
          createdAt
          lastUsedAt
          expiresAt
          revokedAt
          previousPrefix
          previousExpiresAt
        }
      }
      ... on NotFoundError {
        id
        message
      }
    }
    organisation {
      id
      planLimits {
        maxApiKeysPerTenant
      }
    }
  }
`);

export const UpdateTenantMutation = graphql(`
  mutation UpdateTenant($id: ID!, $displayName: String, $environment: Environment) {
    updateTenant(id: $id, displayName: $displayName, environment: $environment) {
      __typename
      ... on Tenant {
        id
        displayName
        environment
        updatedAt
      }
      ... on ValidationError {
        field
        message
      }
      ... on NotFoundError {
        message
      }
    }
  }
`);

export const SuspendTenantMutation = graphql(`
  mutation SuspendTenant($id: ID!) {
    suspendTenant(id: $id) {
      __typename
      ... on Tenant {
        id
        status
      }
      ... on NotFoundError {
        message
      }
    }
  }
`);

export const ResumeTenantMutation = graphql(`
  mutation ResumeTenant($id: ID!) {
    resumeTenant(id: $id) {
      __typename
      ... on Tenant {
        id
        status
      }
      ... on NotFoundError {
        message
      }
    }
  }
`);

export const DeleteTenantMutation = graphql(`
  mutation DeleteTenant($id: ID!) {
    deleteTenant(id: $id) {
      __typename
      ... on DeleteTenantPayload {
        id
      }
      ... on NotFoundError {
        message
      }
    }
  }
`);

const IssuedKeyFields = graphql(`
  fragment IssuedKeyFields on IssuedApiKey {
    key
    apiKey {
      id
      displayName
      prefix
      scopes
      status
      createdAt
      expiresAt
      previousPrefix
      previousExpiresAt
    }
    clientConfig {
      prometheusRemoteWrite
      grafanaAlloy
      openTelemetryCollector
    }
  }
`);

export const CreateApiKeyMutation = graphql(
  `
  mutation CreateApiKey($tenantId: ID!, $displayName: String!, $scopes: [String!], $expiresAt: DateTime) {
    createApiKey(tenantId: $tenantId, displayName: $displayName, scopes: $scopes, expiresAt: $expiresAt) {
      __typename
      ... on IssuedApiKey {
        ...IssuedKeyFields
      }
      ... on ValidationError {
        field
        message
      }
      ... on PlanLimitExceededError {
        message
      }
      ... on NotFoundError {
        message
      }
    }
  }
`,
  [IssuedKeyFields],
);

export const RollApiKeyMutation = graphql(
  `
  mutation RollApiKey($id: ID!, $gracePeriodSeconds: Int!) {
    rollApiKey(id: $id, gracePeriodSeconds: $gracePeriodSeconds) {
      __typename
      ... on IssuedApiKey {
        ...IssuedKeyFields
      }
      ... on ValidationError {
        field
        message
      }
      ... on NotFoundError {
        message
      }
    }
  }
`,
  [IssuedKeyFields],
);

export const RevokeApiKeyMutation = graphql(`
  mutation RevokeApiKey($id: ID!) {
    revokeApiKey(id: $id) {
      __typename
      ... on ApiKey {
        id
        status
        revokedAt
      }
      ... on NotFoundError {
        message
      }
    }
  }
`);

export { IssuedKeyFields };
export type IssuedKey = ResultOf<typeof IssuedKeyFields>;
