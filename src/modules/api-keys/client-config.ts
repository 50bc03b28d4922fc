import type { Cell } from '../../config.ts';

/** Stands where the key goes in configuration shown without one (a tenant's details page). */
export const API_KEY_PLACEHOLDER = '<API_KEY>';

export interface ClientConfigInput {
  tenantId: string;
  key: string;
  scopes: readonly string[];
  hosts: Pick<Cell, 'metricsHost' | 'logsHost' | 'tracesHost'>;
}

export interface ClientConfig {
  prometheusRemoteWrite: string | null;
  grafanaAlloy: string | null;
  openTelemetryCollector: string | null;
}

/**
 * Ready-to-paste collector configuration for a new key, one block per signal the key may write.
 * Endpoints follow the backends' push APIs: Mimir /api/v1/push and /otlp, Loki
 * /loki/api/v1/push and /otlp, Tempo OTLP/HTTP at the root. Auth is basic: tenant ID + key.
 */
export function buildClientConfig({
  tenantId,
  key,
  scopes,
  hosts,
}: ClientConfigInput): ClientConfig {
  const metrics = scopes.includes('metrics:write');
  const logs = scopes.includes('logs:write');
  const traces = scopes.includes('traces:write');
  const q = JSON.stringify;

  const prometheusRemoteWrite = metrics
    ? [
        'remote_write:',
        `  - url: https://${hosts.metricsHost}/api/v1/push`,
        '    basic_auth:',
        `      username: ${tenantId}`,
        `      password: ${key}`,
        '',
      ].join('\n')
    : null;

  const alloyAuth = (indent: string) => [
    `${indent}basic_auth {`,
    `${indent}  username = ${q(tenantId)}`,
    `${indent}  password = ${q(key)}`,
    `${indent}}`,
  ];
  const alloy: string[] = [];
  if (metrics) {
    alloy.push('prometheus.remote_write "xscaler" {', '  endpoint {');
    alloy.push(
      `    url = ${q(`https://${hosts.metricsHost}/api/v1/push`)}`,
      ...alloyAuth('    '),
      '  }',
      '}',
      '',
    );
  }
  if (logs) {
    alloy.push('loki.write "xscaler" {', '  endpoint {');
    alloy.push(
      `    url = ${q(`https://${hosts.logsHost}/loki/api/v1/push`)}`,
      ...alloyAuth('    '),
      '  }',
      '}',
      '',
    );
  }
  if (traces) {
    alloy.push(
      'otelcol.auth.basic "xscaler" {',
      `  username = ${q(tenantId)}`,
      `  password = ${q(key)}`,
      '}',
      '',
    );
    alloy.push('otelcol.exporter.otlphttp "xscaler" {', '  client {');
    alloy.push(
      `    endpoint = ${q(`https://${hosts.tracesHost}`)}`,
      '    auth     = otelcol.auth.basic.xscaler.handler',
    );
    alloy.push('  }', '}', '');
  }

  const exporters: { signal: string; name: string; endpoint: string }[] = [];
  if (metrics)
    exporters.push({
      signal: 'metrics',
      name: 'otlphttp/xscaler-metrics',
      endpoint: `https://${hosts.metricsHost}/otlp`,
    });
  if (logs)
    exporters.push({
      signal: 'logs',
      name: 'otlphttp/xscaler-logs',
      endpoint: `https://${hosts.logsHost}/otlp`,
    });
  if (traces)
    exporters.push({
      signal: 'traces',
      name: 'otlphttp/xscaler-traces',
      endpoint: `https://${hosts.tracesHost}`,
    });
  const otel = exporters.length
    ? [
        'extensions:',
        '  basicauth/xscaler:',
        '    client_auth:',
        `      username: ${tenantId}`,
        `      password: ${key}`,
        'exporters:',
        ...exporters.flatMap((e) => [
          `  ${e.name}:`,
          `    endpoint: ${e.endpoint}`,
          '    auth:',
          '      authenticator: basicauth/xscaler',
        ]),
        'service:',
        '  extensions: [basicauth/xscaler]',
        '  pipelines:',
        ...exporters.flatMap((e) => [
          `    ${e.signal}:`,
          '      receivers: [otlp]',
          `      exporters: [${e.name}]`,
        ]),
        '',
      ].join('\n')
    : null;

  return {
    prometheusRemoteWrite,
    grafanaAlloy: alloy.length ? alloy.join('\n') : null,
    openTelemetryCollector: otel,
  };
}
