import { useId, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { formatDateTime, formatDecimal, formatInteger } from '../../components/format.ts';
import { ErrorNotice, messageOf } from '../../components/Notice.tsx';
import type { ResultOf } from '../../graphql.ts';
import { useSession, useViewer } from '../../session/SessionProvider.tsx';
import {
  BillingPortalMutation,
  BillingQuery,
  RedeemPlanKeyMutation,
  StartCheckoutMutation,
} from './billing-documents.ts';
import { capitalise } from './roles.ts';
import { useStatusMessage } from './useStatusMessage.ts';

type Billing = ResultOf<typeof BillingQuery>['billing'];
type Limit = Billing['limits'][number];

const LIMIT_LABELS: Record<Limit['limit'], { label: string; unit?: string }> = {
  tenants: { label: 'Tenants' },
  api_keys_per_tenant: { label: 'API keys (busiest tenant)' },
  active_series: { label: 'Active series' },
  logs_gb_this_month: { label: 'Logs this month', unit: 'GB' },
};

const amount = (value: number, unit?: string) =>
  unit ? `${formatDecimal(value)} ${unit}` : formatInteger(value);

/** What a limit's state means for the user, in plain words. */
function limitNote(l: Limit): { text: string; tone: 'over' | 'full' | 'near' } | null {
  if (l.used > l.max) {
    return {
      tone: 'over',
      text: 'Over the limit — what exists keeps working, but no more can be created until it fits.',
    };
  }
  if (l.percent >= 100) return { tone: 'full', text: 'At the limit: no more can be created.' };
  if (l.percent >= 80) return { tone: 'near', text: 'Close to the limit.' };
  return null;
}

/** Where the organisation stands against its limits, its alerts, and the ways to upgrade. */
export function BillingSection({ onPlanChanged }: { onPlanChanged(): void }) {
  const [{ data, error }, reexecute] = useQuery({
    query: BillingQuery,
    requestPolicy: 'cache-and-network',
  });
  const { user } = useViewer();
  const isOwner = user.role === 'owner';
  if (!data) return error ? <ErrorNotice error={error} /> : null;
  const billing = data.billing;
  return (
    <section aria-labelledby="billing-title" className="panel billing-panel" id="billing">
      <h2 id="billing-title">Limits and billing</h2>
      <LimitsTable limits={billing.limits} />
      <AlertsList alerts={billing.alerts} />
      {isOwner && (
        <UpgradeActions
          billing={billing}
          onChanged={() => {
            reexecute({ requestPolicy: 'network-only' });
            onPlanChanged();
          }}
        />
      )}
      {!isOwner && <p className="muted small">Only an owner can upgrade or redeem a plan key.</p>}
    </section>
  );
}

function LimitsTable({ limits }: { limits: Billing['limits'] }) {
  return (
    <div className="table-wrap">
      <table className="data-table limits-table" data-testid="limits-table">
        <caption className="visually-hidden">Usage against each limit of the plan</caption>
        <thead>
          <tr>
            <th scope="col">Limit</th>
            <th scope="col" className="num">
              Used
            </th>
            <th scope="col" className="num">
              Maximum
            </th>
            <th scope="col">Percent</th>
            <th scope="col" className="num">
              Month-end projection
            </th>
          </tr>
        </thead>
        <tbody>
          {limits.map((l) => {
            const { label, unit } = LIMIT_LABELS[l.limit];
            const note = limitNote(l);
            return (
              <tr key={l.limit} data-testid={`limit-${l.limit}`}>
                <th scope="row">
                  {label}
                  {note && <p className={`limit-note ${note.tone}`}>{note.text}</p>}
                </th>
                <td className="num">{amount(l.used, unit)}</td>
                <td className="num">{amount(l.max, unit)}</td>
                <td className="percent-cell">
                  <span className="meter" aria-hidden="true">
                    <span
                      className={`meter-fill ${note?.tone ?? ''}`}
                      style={{ width: `${Math.min(100, l.percent)}%` }}
                    />
                  </span>{' '}
                  {formatDecimal(l.percent)}%
                </td>
                <td className="num">
                  {l.projected === null ? (
                    <span className="muted">—</span>
                  ) : (
                    amount(l.projected, unit)
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function AlertsList({ alerts }: { alerts: Billing['alerts'] }) {
  if (alerts.length === 0) {
    return (
      <p className="muted small">No usage alerts: you are told here at 80% and 100% of a limit.</p>
    );
  }
  return (
    <div className="usage-alerts" data-testid="usage-alerts">
      <h3>Usage alerts</h3>
      <ul>
        {alerts.map((a) => {
          const { label, unit } = LIMIT_LABELS[a.limit];
          return (
            <li key={a.id} className={a.threshold >= 100 ? 'alert full' : 'alert near'}>
              <strong>
                {label} reached {a.threshold}%
              </strong>{' '}
              ({amount(a.used, unit)} of {amount(a.max, unit)}){' '}
              <span className="muted">{formatDateTime(a.at)}</span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function UpgradeActions({ billing, onChanged }: { billing: Billing; onChanged(): void }) {
  const [checkout, startCheckout] = useMutation(StartCheckoutMutation);
  const [portal, openPortal] = useMutation(BillingPortalMutation);
  const [error, setError] = useState<string | null>(null);
  const go = (answer: { __typename: string; url?: string; message?: string } | undefined) => {
    if (answer?.url) window.location.assign(answer.url);
    else setError(answer?.message ?? 'The portal did not answer.');
  };
  return (
    <div className="billing-actions">
      {billing.stripeConfigured ? (
        <p className="button-row">
          {billing.plan === 'free' && (
            <button
              type="button"
              className="button primary"
              disabled={checkout.fetching}
              onClick={async () => {
                setError(null);
                const r = await startCheckout({ plan: 'scale' });
                go(
                  r.data?.startCheckout ??
                    (r.error ? { __typename: 'Error', message: messageOf(r.error) } : undefined),
                );
              }}
            >
              {checkout.fetching ? 'Opening checkout…' : `Upgrade to ${capitalise('scale')}`}
            </button>
          )}
          {billing.hasStripeCustomer && (
            <button
              type="button"
              className="button secondary"
              disabled={portal.fetching}
              onClick={async () => {
                setError(null);
                const r = await openPortal({});
                go(
                  r.data?.billingPortalUrl ??
                    (r.error ? { __typename: 'Error', message: messageOf(r.error) } : undefined),
                );
              }}
            >
              Manage billing
            </button>
          )}
        </p>
      ) : (
        <p className="muted small">
          Stripe billing is off on this server: owners switch plans above.
        </p>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {billing.planKeysEnabled && <RedeemForm onRedeemed={onChanged} />}
    </div>
  );
}

function RedeemForm({ onRedeemed }: { onRedeemed(): void }) {
  const id = useId();
  const [key, setKey] = useState('');
  const [{ fetching }, redeem] = useMutation(RedeemPlanKeyMutation);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useStatusMessage();
  const { reloadViewer } = useSession();
  return (
    <form
      className="redeem-form"
      data-testid="redeem-form"
      onSubmit={async (event) => {
        event.preventDefault();
        if (fetching) return;
        setError(null);
        const r = await redeem({ key: key.trim() });
        const answer = r.data?.redeemPlanKey;
        if (!answer) return setError(r.error ? messageOf(r.error) : 'The portal did not answer.');
        if (answer.__typename !== 'PlanKeyRedeemed') return setError(answer.message);
        if (answer.checkoutUrl) return window.location.assign(answer.checkoutUrl);
        setKey('');
        await reloadViewer();
        setStatus(
          `Key redeemed: the organisation is on the ${capitalise(answer.organisation.billingPlan)} plan.`,
        );
        onRedeemed();
      }}
    >
      <div className={error ? 'field invalid' : 'field'}>
        <label htmlFor={id}>Redeem plan key</label>
        <p className="hint" id={`${id}-hint`}>
          A training key, e.g. the guide's Scale plan Stripe key.
        </p>
        <div className="redeem-row">
          <input
            id={id}
            value={key}
            autoComplete="off"
            spellCheck={false}
            aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
            aria-invalid={error ? true : undefined}
            onChange={(e) => setKey(e.target.value)}
          />
          <button
            type="submit"
            className="button secondary"
            disabled={fetching || key.trim() === ''}
          >
            {fetching ? 'Redeeming…' : 'Redeem'}
          </button>
        </div>
        {error && (
          <p className="field-error" id={`${id}-error`} role="alert">
            {error}
          </p>
        )}
      </div>
      <p className="status-line" role="status">
        {status}
      </p>
    </form>
  );
}
