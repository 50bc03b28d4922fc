import { useDeferredValue, useEffect, useState } from 'react';
import { useQuery, useSubscription } from 'urql';
import { Link } from 'wouter';
import { formatDateTime, formatInteger } from '../../components/format.ts';
import { ErrorNotice } from '../../components/Notice.tsx';
import { useViewer } from '../../session/SessionProvider.tsx';
import { OrgUsageSubscription } from '../usage/documents.ts';
import { TenantsQuery } from './documents.ts';
import { ENVIRONMENTS, type Environment } from './environments.ts';
import { NewTenantDialog } from './NewTenantDialog.tsx';
import { StatusBadge } from './StatusBadge.tsx';
import './tenants.css';

/** The guide's "Tenants" page: every tenant, filters, the plan's room, and New Tenant. */
export function TenantsView() {
  const { canWrite } = useViewer();
  const [environment, setEnvironment] = useState<Environment | ''>('');
  const [search, setSearch] = useState('');
  const deferredSearch = useDeferredValue(search.trim());
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ id: string; displayName: string } | null>(null);
  const [{ data, fetching, error }, refetch] = useQuery({
    query: TenantsQuery,
    variables: { environment: environment || null, search: deferredSearch || null },
    // Shown from the cache at once, then brought up to date (usage moves between visits).
    requestPolicy: 'cache-and-network',
  });

  // Each sync pushes the org's figures; one refetch brings every row's active series with it.
  const [{ data: pushed }] = useSubscription({ query: OrgUsageSubscription });
  const pushedAt = pushed?.orgUsageUpdated.syncedAt;
  useEffect(() => {
    if (pushedAt) refetch({ requestPolicy: 'network-only' });
  }, [pushedAt, refetch]);

  const tenants = data?.tenants.edges.map((e) => e.node) ?? [];
  const total = data?.all.totalCount ?? 0;
  const max = data?.organisation.planLimits.maxTenants;
  const filtered = environment !== '' || deferredSearch !== '';

  return (
    <section aria-labelledby="tenants-title" className="view">
      <div className="view-header">
        <div>
          <h1 id="tenants-title">Tenants</h1>
          {max !== undefined && (
            <p className="muted" data-testid="tenant-count">
              {total} of {max} tenants on the {data?.organisation.billingPlan} plan
            </p>
          )}
        </div>
        {canWrite && (
          <button type="button" className="button primary" onClick={() => setCreating(true)}>
            New Tenant
          </button>
        )}
      </div>

      <search className="filters" aria-label="Filter tenants">
        <div className="field inline">
          <label htmlFor="tenant-search">Search</label>
          <input
            id="tenant-search"
            type="search"
            placeholder="Name or ID"
            maxLength={100}
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
        <div className="field inline">
          <label htmlFor="tenant-environment">Environment</label>
          <select
            id="tenant-environment"
            value={environment}
            onChange={(e) => setEnvironment(e.target.value as Environment | '')}
          >
            <option value="">All</option>
            {ENVIRONMENTS.map((env) => (
              <option key={env} value={env}>
                {env}
              </option>
            ))}
          </select>
        </div>
      </search>

      <ErrorNotice error={error} />
      {created && (
        <p className="notice success" role="status">
          Created <strong>{created.displayName}</strong> as{' '}
          <Link href={`/tenants/${encodeURIComponent(created.id)}`}>
            <code>{created.id}</code>
          </Link>
          . Open it to create its API keys.
        </p>
      )}

      {data && tenants.length === 0 && !filtered && (
        <div className="empty-state">
          <h2>No tenants yet</h2>
          <p>
            A tenant is one isolated space for metrics, logs and traces, usually one per service and
            environment (for example <em>Payment Service</em> in prod, staging and dev).
          </p>
          {canWrite ? (
            <button type="button" className="button primary" onClick={() => setCreating(true)}>
              Create your first tenant
            </button>
          ) : (
            <p className="muted">Ask an owner or admin of your organisation to create one.</p>
          )}
        </div>
      )}
      {data && tenants.length === 0 && filtered && (
        <p className="muted" role="status">
          No tenant matches these filters.
        </p>
      )}

      {tenants.length > 0 && (
        <div className="table-wrap">
          <table className="data-table" aria-busy={fetching}>
            <caption className="visually-hidden">
              {filtered ? `${tenants.length} matching tenants` : `${tenants.length} tenants`}
            </caption>
            <thead>
              <tr>
                <th scope="col">Display name</th>
                <th scope="col">Tenant ID</th>
                <th scope="col">Environment</th>
                <th scope="col">Status</th>
                <th scope="col">Region</th>
                <th scope="col" className="num">
                  Active series
                </th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {tenants.map((t) => (
                <tr key={t.id} data-tenant-id={t.id}>
                  <td>
                    <Link href={`/tenants/${encodeURIComponent(t.id)}`} className="row-link">
                      {t.displayName}
                    </Link>
                  </td>
                  <td>
                    <code className="tenant-id">{t.id}</code>
                  </td>
                  <td>
                    <span className={`env env-${t.environment}`}>{t.environment}</span>
                  </td>
                  <td>
                    <StatusBadge status={t.status} />
                  </td>
                  <td>{t.region}</td>
                  <td className="num" data-testid="tenant-active-series">
                    {formatInteger(t.usage.activeSeries)}
                  </td>
                  <td>{formatDateTime(t.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {canWrite && (
        <NewTenantDialog
          open={creating}
          onClose={() => setCreating(false)}
          onCreated={(tenant) => {
            setCreating(false);
            setCreated(tenant);
            refetch({ requestPolicy: 'network-only' });
          }}
        />
      )}
    </section>
  );
}
