import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { Dialog } from '../../components/Dialog.tsx';
import { DialogActions } from '../../components/DialogActions.tsx';
import { formatInteger } from '../../components/format.ts';
import { messageOf } from '../../components/Notice.tsx';
import type { ResultOf } from '../../graphql.ts';
import { useSession, useViewer } from '../../session/SessionProvider.tsx';
import { BillingQuery } from './billing-documents.ts';
import { ChangePlanMutation, type UsersAndPlanQuery } from './documents.ts';
import { capitalise, fieldMessage } from './roles.ts';
import { useStatusMessage } from './useStatusMessage.ts';

type Plan = ResultOf<typeof UsersAndPlanQuery>['plans'][number];
type Limits = Plan['limits'];
type PlanName = Plan['name'];

const LIMIT_ROWS: { key: keyof Limits; label: string; unit?: string }[] = [
  { key: 'maxTenants', label: 'Tenants' },
  { key: 'maxApiKeysPerTenant', label: 'API keys per tenant' },
  { key: 'maxActiveSeries', label: 'Active series' },
  { key: 'maxLogsGbPerMonth', label: 'Logs per month', unit: 'GB' },
];

const formatLimit = (value: number, unit?: string) =>
  unit ? `${formatInteger(value)} ${unit}` : formatInteger(value);

/** The plans side by side, the current one marked; owners switch between them. */
export function PlanSection({
  current,
  plans,
  tenantCount,
  onChanged,
}: {
  current: PlanName;
  plans: readonly Plan[];
  tenantCount: number;
  onChanged(): void;
}) {
  const { user } = useViewer();
  // With Stripe billing, plans change through Checkout and the portal (BillingSection), not here.
  const [{ data: billing }] = useQuery({ query: BillingQuery });
  const byStripe = billing?.billing.stripeConfigured ?? false;
  const isOwner = user.role === 'owner';
  const [target, setTarget] = useState<Plan | null>(null);
  const [status, setStatus] = useStatusMessage();
  const currentPlan = plans.find((p) => p.name === current);

  return (
    <section
      id="plans"
      aria-labelledby="plans-title"
      className="panel plans-panel"
      // Focused when reached through /ui/users#plans.
      tabIndex={-1}
    >
      <h2 id="plans-title">Plan</h2>
      <p>
        {'The organisation is on the '}
        <strong data-testid="current-plan">{capitalise(current)}</strong>
        {' plan'}
        {currentPlan && (
          <>
            {', using '}
            {formatInteger(tenantCount)} of {formatInteger(currentPlan.limits.maxTenants)} tenants
          </>
        )}
        .
      </p>
      <p className="status-line" role="status">
        {status}
      </p>
      <div className="table-wrap">
        <table className="data-table plans-table" data-testid="plans-table">
          <caption className="visually-hidden">
            Plans compared, the current plan ({capitalise(current)}) marked
          </caption>
          <thead>
            <tr>
              <th scope="col">Limit</th>
              {plans.map((p) => (
                <th
                  key={p.name}
                  scope="col"
                  className={p.name === current ? 'num current' : 'num'}
                  aria-current={p.name === current ? 'true' : undefined}
                >
                  {capitalise(p.name)}
                  {p.name === current && <span className="badge badge-active">current</span>}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {LIMIT_ROWS.map((row) => (
              <tr key={row.key}>
                <th scope="row">{row.label}</th>
                {plans.map((p) => (
                  <td key={p.name} className={p.name === current ? 'num current' : 'num'}>
                    {formatLimit(p.limits[row.key], row.unit)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
          {isOwner && !byStripe && (
            <tfoot>
              <tr>
                <th scope="row">
                  <span className="visually-hidden">Change plan</span>
                </th>
                {plans.map((p) => (
                  <td key={p.name} className={p.name === current ? 'num current' : 'num'}>
                    {p.name === current ? (
                      <span className="muted">Your plan</span>
                    ) : (
                      <button
                        type="button"
                        className="button secondary small"
                        onClick={() => setTarget(p)}
                      >
                        Switch to {capitalise(p.name)}
                      </button>
                    )}
                  </td>
                ))}
              </tr>
            </tfoot>
          )}
        </table>
      </div>
      {!isOwner && <p className="muted small">Only an owner can change the plan.</p>}
      {isOwner && byStripe && (
        <p className="muted small">
          Plans are billed through Stripe: upgrade or manage the subscription under Limits and
          billing.
        </p>
      )}
      {isOwner && (
        <ChangePlanDialog
          target={target}
          currentPlan={currentPlan}
          tenantCount={tenantCount}
          onClose={() => setTarget(null)}
          onChanged={(plan) => {
            setTarget(null);
            setStatus(`The organisation is now on the ${capitalise(plan)} plan.`);
            onChanged();
          }}
        />
      )}
    </section>
  );
}

function ChangePlanDialog({
  target,
  currentPlan,
  tenantCount,
  onClose,
  onChanged,
}: {
  target: Plan | null;
  currentPlan: Plan | undefined;
  tenantCount: number;
  onClose(): void;
  onChanged(plan: PlanName): void;
}) {
  const [{ fetching }, changePlan] = useMutation(ChangePlanMutation);
  const [error, setError] = useState<string | null>(null);
  const { reloadViewer } = useSession();
  const close = () => {
    setError(null);
    onClose();
  };
  const confirm = async () => {
    if (!target || fetching) return;
    setError(null);
    const result = await changePlan({ plan: target.name });
    const answer = result.data?.changePlan;
    if (!answer) {
      setError(result.error ? messageOf(result.error) : 'The portal did not answer.');
      return;
    }
    switch (answer.__typename) {
      case 'Organisation':
        // The header and the tenants page read the plan from the session's viewer.
        await reloadViewer();
        onChanged(answer.billingPlan);
        return;
      case 'PlanLimitExceededError':
        // The API's message speaks of adding more; a downgrade needs fewer, so say so.
        setError(
          answer.limit !== 'tenants'
            ? answer.message
            : // The count shown may predate tenants created elsewhere; only a larger one is news.
              tenantCount > answer.max
              ? `The ${capitalise(answer.plan)} plan allows at most ${formatInteger(answer.max)} tenants ` +
                `and the organisation has ${formatInteger(tenantCount)}: delete ` +
                `${formatInteger(tenantCount - answer.max)} first, then switch.`
              : `The ${capitalise(answer.plan)} plan allows at most ${formatInteger(answer.max)} tenants: ` +
                `delete tenants until ${formatInteger(answer.max)} remain, then switch.`,
        );
        return;
      case 'ValidationError':
        setError(fieldMessage(answer.field, answer.message));
        return;
      case 'ConflictError':
        // Stripe bills on this server: the plan changes through Checkout or the portal.
        setError(answer.message);
        return;
    }
  };
  const name = target ? capitalise(target.name) : '';
  const tooMany = target ? tenantCount > target.limits.maxTenants : false;
  return (
    <Dialog open={target !== null} title={`Switch to the ${name} plan`} onClose={close}>
      {target && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void confirm();
          }}
        >
          <p>The organisation's limits become:</p>
          <ul className="plan-changes">
            {LIMIT_ROWS.map((row) => (
              <li key={row.key}>
                {row.label}:{' '}
                {currentPlan && (
                  <>
                    <span className="muted">
                      {formatLimit(currentPlan.limits[row.key], row.unit)}
                    </span>
                    {' → '}
                  </>
                )}
                <strong>{formatLimit(target.limits[row.key], row.unit)}</strong>
              </li>
            ))}
          </ul>
          {tooMany && !error && (
            <p className="notice warning">
              The organisation has {formatInteger(tenantCount)} tenants and the {name} plan allows{' '}
              {formatInteger(target.limits.maxTenants)}: the portal will refuse until enough are
              deleted.
            </p>
          )}
          {error && (
            <p className="form-error" role="alert" data-testid="plan-change-error">
              {error}
            </p>
          )}
          <DialogActions
            onCancel={close}
            label={`Switch to ${name}`}
            busyLabel="Switching…"
            busy={fetching}
          />
        </form>
      )}
    </Dialog>
  );
}
