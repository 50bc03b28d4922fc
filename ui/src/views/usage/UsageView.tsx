/** Placeholder: the organisation's live usage against its plan, and its history. */
export function UsageView() {
  return (
    <section aria-labelledby="usage-title" className="view">
      <h1 id="usage-title">Usage</h1>
      <p className="muted">Active series, logs and traces against the plan will be shown here.</p>
    </section>
  );
}
