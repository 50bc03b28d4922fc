import { useViewer } from '../../session/SessionProvider.tsx';

/** Placeholder: the tenants dashboard (list, filters, New Tenant dialog) is built here. */
export function TenantsView() {
  const { organisation } = useViewer();
  return (
    <section aria-labelledby="tenants-title" className="view">
      <h1 id="tenants-title">Tenants</h1>
      <p className="muted">
        The tenants of {organisation.name} will be listed here (plan: {organisation.billingPlan}, up
        to {organisation.planLimits.maxTenants} tenants).
      </p>
    </section>
  );
}
