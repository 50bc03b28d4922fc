import { useEffect, useRef } from 'react';
import { useQuery } from 'urql';
import { ErrorNotice } from '../../components/Notice.tsx';
import { useViewer } from '../../session/SessionProvider.tsx';
import { BillingSection } from './BillingSection.tsx';
import { UsersAndPlanQuery } from './documents.ts';
import { PlanSection } from './PlanSection.tsx';
import { UsersSection } from './UsersSection.tsx';
import './users.css';

/** The organisation's users and roles, and its plan (section #plans, linked from the tenants). */
export function UsersView() {
  const [{ data, error }, reexecute] = useQuery({
    query: UsersAndPlanQuery,
    // Tenants and users change elsewhere: show the cache, then what is true now.
    requestPolicy: 'cache-and-network',
  });
  const refetch = () => reexecute({ requestPolicy: 'network-only' });
  useScrollToPlans(!!data);
  const { organisation } = useViewer();

  return (
    <section aria-labelledby="users-title" className="view users-view">
      <h1 id="users-title">Users &amp; plan</h1>
      <p className="muted">
        Who can sign in to {organisation.name}, what each may do, and the plan it is on.
      </p>
      {!data ? (
        error ? (
          <ErrorNotice error={error} />
        ) : (
          <p className="muted" aria-busy="true">
            Loading users…
          </p>
        )
      ) : (
        <>
          {error && <ErrorNotice error={error} />}
          <UsersSection users={data.organisation.users} onChanged={refetch} />
          <PlanSection
            current={data.organisation.billingPlan}
            plans={data.plans}
            tenantCount={data.tenants.totalCount}
            onChanged={refetch}
          />
          <BillingSection onPlanChanged={refetch} />
        </>
      )}
    </section>
  );
}

/**
 * A link to /ui/users#plans (the tenants page's "See plans") is a client navigation: the browser
 * does not scroll to the hash by itself, so this does, once the section is rendered.
 */
function useScrollToPlans(ready: boolean) {
  const done = useRef(false);
  useEffect(() => {
    if (!ready || done.current || window.location.hash !== '#plans') return;
    done.current = true;
    // After the shell has moved focus to <main> for the new page.
    const timer = setTimeout(() => {
      const section = document.getElementById('plans');
      section?.scrollIntoView({ block: 'start' });
      section?.focus({ preventScroll: true });
    }, 0);
    return () => clearTimeout(timer);
  }, [ready]);
}
