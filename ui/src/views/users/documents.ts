import { graphql } from '../../graphql.ts';

export const UsersAndPlanQuery = graphql(`
  query UsersAndPlan {
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
      users {
        id
        email
        role
        createdAt
      }
    }
    plans {
      name
      limits {
        maxTenants
        maxApiKeysPerTenant
        maxActiveSeries
        maxLogsGbPerMonth
      }
    }
    tenants(first: 0) {
      totalCount
    }
  }
`);

export const CreateUserMutation = graphql(`
  mutation CreateUser($email: String!, $password: String!, $role: Role!) {
    createUser(email: $email, password: $password, role: $role) {
      __typename
      ... on User {
        id
        email
        role
        createdAt
      }
      ... on ConflictError {
        message
      }
      ... on ValidationError {
        field
        message
      }
    }
  }
`);

export const UpdateUserRoleMutation = graphql(`
  mutation UpdateUserRole($id: ID!, $role: Role!) {
    updateUserRole(id: $id, role: $role) {
      __typename
      ... on User {
        id
        email
        role
      }
      ... on NotFoundError {
        message
      }
      ... on ValidationError {
        field
        message
      }
    }
  }
`);

export const RemoveUserMutation = graphql(`
  mutation RemoveUser($id: ID!) {
    removeUser(id: $id) {
      __typename
      ... on User {
        id
        email
      }
      ... on NotFoundError {
        message
      }
      ... on ValidationError {
        field
        message
      }
    }
  }
`);

export const ChangePlanMutation = graphql(`
  mutation ChangePlan($plan: BillingPlan!) {
    changePlan(plan: $plan) {
      __typename
      ... on Organisation {
        id
        billingPlan
        planLimits {
          maxTenants
          maxApiKeysPerTenant
          maxActiveSeries
          maxLogsGbPerMonth
        }
      }
      ... on PlanLimitExceededError {
        message
        limit
        max
        plan
      }
      ... on ValidationError {
        field
        message
      }
      ... on ConflictError {
        message
      }
    }
  }
`);
