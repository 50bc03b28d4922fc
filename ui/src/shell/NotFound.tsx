import { Link } from 'wouter';

export function NotFound() {
  return (
    <section aria-labelledby="notfound-title" className="view">
      <h1 id="notfound-title">Page not found</h1>
      <p>
        Nothing lives at this address. <Link href="/">Go to the tenants dashboard</Link>.
      </p>
    </section>
  );
}
