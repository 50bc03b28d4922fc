import { type ConnectionState, useConnectionState } from '../client.ts';

const LABELS: Record<ConnectionState, string> = {
  idle: 'Offline',
  connecting: 'Connecting',
  live: 'Live',
  reconnecting: 'Reconnecting',
};

const HINTS: Record<ConnectionState, string> = {
  idle: 'Live updates are off.',
  connecting: 'Opening the live connection.',
  live: 'Usage figures update as they are synced.',
  reconnecting: 'The live connection dropped; retrying. Figures may be out of date.',
};

/** The state of the one graphql-ws socket; a polite live region announces its changes. */
export function LiveIndicator() {
  const state = useConnectionState();
  return (
    <output className="live-indicator" data-state={state} title={HINTS[state]} aria-live="polite">
      <span className="live-dot" aria-hidden="true" />
      {LABELS[state]}
    </output>
  );
}
