import { useState } from 'react';
import { CodeBlock } from '../../components/CodeBlock.tsx';

export interface ClientConfigBlocks {
  prometheusRemoteWrite: string | null;
  grafanaAlloy: string | null;
  openTelemetryCollector: string | null;
}

const COLLECTORS = [
  { key: 'prometheusRemoteWrite', label: 'Prometheus', file: 'prometheus.yml' },
  { key: 'grafanaAlloy', label: 'Grafana Alloy', file: 'config.alloy' },
  { key: 'openTelemetryCollector', label: 'OpenTelemetry Collector', file: 'otelcol.yaml' },
] as const;

/**
 * Ready-to-paste configuration for each collector, one tab each (ARIA tabs: arrow keys move).
 * On the details page the key is the <API_KEY> placeholder; after creating a key, the real one.
 */
export function CollectorConfig({
  config,
  title = 'Collector configuration',
  withKey = false,
  mask,
}: {
  config: ClientConfigBlocks;
  title?: string;
  withKey?: boolean;
  /** Hides a secret in what is displayed; the copy button still copies the real text. */
  mask?: (text: string) => string;
}) {
  const available = COLLECTORS.filter((c) => config[c.key]);
  const [selected, setSelected] = useState(0);
  const current = available[Math.min(selected, available.length - 1)];
  if (!current) return null;
  const tabId = (i: number) => `collector-tab-${withKey ? 'key' : 'tenant'}-${i}`;
  const panelId = `collector-panel-${withKey ? 'key' : 'tenant'}`;
  return (
    <section aria-label={title} className="panel collector-config">
      <h2>{title}</h2>
      {!withKey && (
        <p className="muted">
          Replace <code>&lt;API_KEY&gt;</code> with a key of this tenant (create one below; it is
          shown only once).
        </p>
      )}
      <div role="tablist" aria-label="Collector" className="tabs">
        {available.map((c, i) => (
          <button
            key={c.key}
            id={tabId(i)}
            type="button"
            role="tab"
            aria-selected={c === current}
            aria-controls={panelId}
            tabIndex={c === current ? 0 : -1}
            className="tab"
            onClick={() => setSelected(i)}
            onKeyDown={(e) => {
              const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
              if (!step) return;
              e.preventDefault();
              const next = (i + step + available.length) % available.length;
              setSelected(next);
              document.getElementById(tabId(next))?.focus();
            }}
          >
            {c.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={panelId} aria-labelledby={tabId(available.indexOf(current))}>
        <CodeBlock
          title={`${current.label} (${current.file})`}
          code={config[current.key] ?? ''}
          shown={mask ? mask(config[current.key] ?? '') : undefined}
        />
      </div>
    </section>
  );
}
