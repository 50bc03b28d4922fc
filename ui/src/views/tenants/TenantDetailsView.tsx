import { useState } from 'react';
import { useQuery } from 'urql';
import { Link } from 'wouter';
import { CopyButton } from '../../components/CopyButton.tsx';
import { formatDateTime } from '../../components/format.ts';
import { ErrorNotice } from '../../components/Notice.tsx';
import { useViewer } from '../../session/SessionProvider.tsx';
import { ApiKeysPanel } from './ApiKeysPanel.tsx';
import { CollectorConfig } from './CollectorConfig.tsx';
import { DangerZone } from './DangerZone.tsx';
import { TenantQuery } from './documents.ts';
import { EditTenantDialog } from './EditTenantDialog.tsx';
import { StatusBadge } from './StatusBadge.tsx';
import { TenantUsage } from './TenantUsage.tsx';
import './tenants.css';

/** One tenant: where to send data, how to configure collectors, its keys, usage and lifecycle. */
export function TenantDetailsView({ id }: { id: string }) {
  const { canWrite } = useViewer();
  const tenantId = decodeURIComponent(id);
  const [editing, setEditing] = useState(false);
  const [{ data, error, fetching }, refetch] = useQuery({
    query: TenantQuery,
    variables: { id: tenantId },
  });

  if (error) return <ErrorNotice error={error} />;
  if (!data) return <p aria-busy="true">Loading…</p>;
  const tenant = data.tenant;
  if (tenant.__typename === 'NotFoundError') {
    return (
      <section className="view" aria-labelledby="tenant-title">
        <h1 id="tenant-title">Tenant not found</h1>
        <p>
          No tenant <code>{tenant.id}</code> in your organisation. It may have been deleted.
        </p>
        <p>
          <Link href="/">Back to tenants</Link>
        </p>
      </section>
    );
  }

  const hosts = [
    {
      signal: 'Metrics',
      host: tenant.metricsHost,
      push: `https://${tenant.metricsHost}/api/v1/push`,
    },
    { signal: 'Logs', host: tenant.logsHost, push: `https://${tenant.logsHost}/loki/api/v1/push` },
    { signal: 'Traces', host: tenant.tracesHost, push: `https://${tenant.tracesHost}` },
  ];

  return (
    <section className="view tenant-details" aria-labelledby="tenant-title" aria-busy={fetching}>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/">Tenants</Link> <span aria-hidden="true">/</span>{' '}
        <span aria-current="page">{tenant.displayName}</span>
      </nav>
      <div className="view-header">
        <div>
          <h1 id="tenant-title">{tenant.displayName}</h1>
          <p className="tenant-meta">
            <code className="tenant-id" data-testid="tenant-id">
              {tenant.id}
            </code>
            <CopyButton text={tenant.id} label="Copy tenant ID" />
            <span className={`env env-${tenant.environment}`}>{tenant.environment}</span>
            <StatusBadge status={tenant.status} />
            <span className="muted">
              {tenant.region} · created {formatDateTime(tenant.createdAt)}
            </span>
          </p>
        </div>
        {canWrite && (
          <button type="button" className="button secondary" onClick={() => setEditing(true)}>
            Edit
          </button>
        )}
      </div>
      {tenant.status === 'suspended' && (
        <p className="notice warning" role="status">
          This tenant is suspended: every key is refused for metrics, logs and traces until it is
          resumed.
        </p>
      )}

      <section aria-labelledby="hosts-title" className="panel">
        <h2 id="hosts-title">Where to send data</h2>
        <p className="muted">
          Authenticate with the tenant ID as the user name and an API key as the password (basic
          auth), or the key as a bearer token.
        </p>
        <table className="data-table hosts">
          <thead>
            <tr>
              <th scope="col">Signal</th>
              <th scope="col">Host</th>
              <th scope="col">Push endpoint</th>
            </tr>
          </thead>
          <tbody>
            {hosts.map((h) => (
              <tr key={h.signal}>
                <th scope="row">{h.signal}</th>
                <td>
                  <code>{h.host}</code> <CopyButton text={h.host} label={`Copy ${h.signal} host`} />
                </td>
                <td>
                  <code>{h.push}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <CollectorConfig config={tenant.clientConfig} />

      <ApiKeysPanel
        tenantId={tenant.id}
        keys={tenant.apiKeys}
        maxKeys={data.organisation.planLimits.maxApiKeysPerTenant}
        // urql's document cache cannot tell that a list it saw empty now holds a key.
        onChanged={() => refetch({ requestPolicy: 'network-only' })}
      />

      <TenantUsage tenantId={tenant.id} usage={tenant.usage} />

      {canWrite && <DangerZone tenant={tenant} />}

      {canWrite && (
        <EditTenantDialog open={editing} tenant={tenant} onClose={() => setEditing(false)} />
      )}
    </section>
  );
}
