import { graphql } from '../../graphql.ts';

/** The figures of the organisation and of every tenant: one request, refetched after every push. */
export const UsageOverviewQuery = graphql(`
  query UsageOverview {
    organisation {
      id
      billingPlan
      planLimits {
        maxActiveSeries
        maxLogsGbPerMonth
      }
      usage {
        activeSeries
        planMaxActiveSeries
        pctUsed
        logsGbThisMonth
        tracesGbThisMonth
        syncedAt
      }
    }
    tenants(first: 100) {
      totalCount
      edges {
        node {
          id
          displayName
          environment
          status
          usage {
            activeSeries
            logsGbThisMonth
            tracesGbThisMonth
            syncedAt
          }
        }
      }
    }
  }
`);

/** Whether syncs succeed: polled, since a failing source pushes nothing. */
export const SyncStatusQuery = graphql(`
  query UsageSyncStatus {
    usageSyncStatus {
      sourceConfigured
      intervalSeconds
      lastAttemptAt
      lastSuccessAt
      lastError
      lastErrorAt
    }
  }
`);

/** Pushed over the one graphql-ws socket after every usage sync. */
export const OrgUsageSubscription = graphql(`
  subscription OrgUsageUpdated {
    orgUsageUpdated {
      activeSeries
      planMaxActiveSeries
      pctUsed
      logsGbThisMonth
      tracesGbThisMonth
      syncedAt
    }
  }
`);

export const OrgUsageHistoryQuery = graphql(`
  query OrgUsageHistory($from: DateTime!, $to: DateTime!, $step: Int) {
    organisation {
      id
      usageHistory(from: $from, to: $to, step: $step) {
        __typename
        ... on OrganisationUsageHistorySuccess {
          data {
            at
            activeSeries
            logsGbThisMonth
            tracesGbThisMonth
          }
        }
        ... on ValidationError {
          field
          message
        }
      }
    }
  }
`);
