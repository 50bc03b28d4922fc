/** Placeholder: the organisation's users and roles, and its plan. */
export function UsersView() {
  return (
    <section aria-labelledby="users-title" className="view">
      <h1 id="users-title">Users &amp; plan</h1>
      <p className="muted">
        The organisation's users, their roles and the plan will be shown here.
      </p>
    </section>
  );
}
