import { useEffect, useRef } from 'react';
import { Route, Router, Switch, useLocation } from 'wouter';
import { useSession } from '../session/SessionProvider.tsx';
import { AuthView } from '../views/auth/AuthView.tsx';
import { TenantDetailsView } from '../views/tenants/TenantDetailsView.tsx';
import { TenantsView } from '../views/tenants/TenantsView.tsx';
import { UsageView } from '../views/usage/UsageView.tsx';
import { UsersView } from '../views/users/UsersView.tsx';
import { Header } from './Header.tsx';
import { NotFound } from './NotFound.tsx';

/** Client routes live under /ui, so they never collide with the REST paths (/tenants, ...). */
export const UI_BASE = '/ui';

export function App() {
  return (
    <Router base={UI_BASE}>
      <Gate />
    </Router>
  );
}

/** The login view until signed in, at whatever address was asked (it stays for after). */
function Gate() {
  const { state } = useSession();
  if (state.status === 'loading') {
    return (
      <main id="main" className="boot" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  }
  if (state.status === 'signedOut') return <AuthView message={state.message} />;
  return <Shell />;
}

function Shell() {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header />
      <MainLandmark>
        <Switch>
          <Route path="/">
            <TenantsView />
          </Route>
          <Route path="/tenants/:id">{(params) => <TenantDetailsView id={params.id} />}</Route>
          <Route path="/usage">
            <UsageView />
          </Route>
          <Route path="/users">
            <UsersView />
          </Route>
          <Route>
            <NotFound />
          </Route>
        </Switch>
      </MainLandmark>
    </>
  );
}

/** After a client-side navigation, focus moves to the new page's content (for screen readers). */
function MainLandmark({ children }: { children: React.ReactNode }) {
  const [location] = useLocation();
  const ref = useRef<HTMLElement>(null);
  const shown = useRef(location);
  useEffect(() => {
    if (shown.current === location) return; // first render: focus stays where the browser put it
    shown.current = location;
    ref.current?.focus();
  }, [location]);
  return (
    <main id="main" ref={ref} tabIndex={-1} className="app-main">
      {children}
    </main>
  );
}
