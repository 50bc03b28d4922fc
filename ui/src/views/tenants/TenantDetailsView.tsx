/** Placeholder: one tenant's hosts, collector config, API keys and usage. */
export function TenantDetailsView({ id }: { id: string }) {
  return (
    <section aria-labelledby="tenant-title" className="view">
      <h1 id="tenant-title">Tenant {id}</h1>
      <p className="muted">This tenant's hosts, keys and usage will be shown here.</p>
    </section>
  );
}
