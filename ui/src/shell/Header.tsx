import { Link, useLocation } from 'wouter';
import { useSession, useViewer } from '../session/SessionProvider.tsx';
import { ThemeSelect } from '../theme/ThemeSelect.tsx';
import { LiveIndicator } from './LiveIndicator.tsx';

const NAV = [
  { href: '/', label: 'Tenants' },
  { href: '/usage', label: 'Usage' },
  { href: '/users', label: 'Users & plan' },
];

export function Header() {
  const { logout } = useSession();
  const { user, organisation } = useViewer();
  return (
    <header className="app-header">
      <div className="brand">
        <Link href="/" className="product">
          xScaler Portal
        </Link>
        <span className="org-name" title={organisation.name}>
          <span className="visually-hidden">Organisation: </span>
          {organisation.name}
        </span>
      </div>
      <nav aria-label="Main">
        <ul>
          {NAV.map((item) => (
            <li key={item.href}>
              <NavLink href={item.href}>{item.label}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="header-tools">
        <LiveIndicator />
        <ThemeSelect />
        <p className="whoami">
          <span className="visually-hidden">Signed in as </span>
          <span className="email" title={user.email}>
            {user.email}
          </span>
          <span className="role">
            <span className="visually-hidden">, role: </span>
            {user.role}
          </span>
        </p>
        <button type="button" className="button secondary" onClick={() => void logout()}>
          Log out
        </button>
      </div>
    </header>
  );
}

/** Tenants stays current on a tenant's page too. */
function isCurrent(href: string, location: string): boolean {
  if (href === '/') return location === '/' || location.startsWith('/tenants/');
  return location === href || location.startsWith(`${href}/`);
}

function NavLink({ href, children }: { href: string; children: string }) {
  const [location] = useLocation();
  const current = isCurrent(href, location);
  return (
    <Link
      href={href}
      className={current ? 'nav-link active' : 'nav-link'}
      aria-current={current ? 'page' : undefined}
    >
      {children}
    </Link>
  );
}
