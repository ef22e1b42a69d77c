// The exporter's gauges from its namespace readings: the names, help and labels of
// safebind/prometheus (lib/prometheus.ts), each sample with `netns` (the namespace's inode) and
// `container` and `pod` (from its processes' cgroups; empty when unknown, never guessed).
import { distinctSysctlValues, type NamespaceSysctls } from '../diagnose/netns-sysctls-audit.js';
import type { NetnsReading, NetnsRef } from '../host/netns.js';
import { POOL_GAUGES, type SampleHeads } from './exporter-heads.js';
import { renderLabels, type MetricFamily, type Sample, type SampleRows } from './exposition.js';

export interface NamespaceResult {
  ns: NetnsRef;
  /** The reading, or why there is none. */
  reading: NetnsReading | { error: string };
  /** Seconds until each destination's pool fills (by label; exporter-forecast.ts), where known. */
  exhaustion?: Map<string, number>;
}

function baseLabels(ns: NetnsRef): Record<string, string> {
  return { netns: String(ns.inode), container: ns.ids.container ?? '', pod: ns.ids.pod ?? '' };
}

const noRows = (): SampleRows => ({ heads: [], values: [] });

/**
 * `safebind_netns_sysctl_distinct_values`, as registerNamespaceAuditMetrics writes it: per sysctl,
 * how many distinct values the namespaces read have (1: they agree), where any was read.
 */
function distinctValues(results: NamespaceResult[]): Sample[] {
  const readings: NamespaceSysctls[] = results.flatMap(({ ns, reading }) =>
    'error' in reading
      ? []
      : [
          {
            netns: String(ns.inode),
            ...(reading.range !== undefined ? { ipLocalPortRange: reading.range } : {}),
            ...(reading.timeWait.twReuse !== undefined ? { tcpTwReuse: reading.timeWait.twReuse } : {}),
          },
        ],
  );
  return distinctSysctlValues(readings).map(({ sysctl, values }) => ({ labels: { sysctl }, value: values }));
}

/**
 * The families of one scrape, in a fixed order. The per-destination samples' text before the value
 * comes from `heads`, which keeps it between scrapes (the caller sweeps it after each).
 */
export function exporterFamilies(
  results: NamespaceResult[],
  scrapeSeconds: number,
  heads: SampleHeads,
): MetricFamily[] {
  const sockets: Sample[] = [];
  const range: Sample[] = [];
  const inUse = noRows();
  const ratio = noRows();
  const nonlocal: Sample[] = [];
  const up: Sample[] = [];
  const exhaustion = noRows();
  for (const { ns, reading, exhaustion: seconds } of results) {
    const base = baseLabels(ns);
    const prefix = renderLabels(base);
    if ('error' in reading) {
      up.push({ labels: base, value: 0 });
      continue;
    }
    up.push({ labels: base, value: reading.sockets ? 1 : 0 });
    for (const [state, n] of Object.entries(reading.sockets ?? {}))
      sockets.push({ prefix, labels: { state }, value: n });
    if (reading.rangeSize !== undefined) range.push({ labels: base, value: reading.rangeSize });
    const p = reading.pools;
    for (let i = 0; i < p.destinations.length; i++) {
      // Thousands per scrape: each sample's text up to its value is kept from the last scrape.
      const h = heads.of(prefix, p.destinations[i]!);
      inUse.heads.push(h[0]);
      inUse.values.push(p.inUse[i]!);
      // A pool whose range could not be read has no ratio: no sample, rather than NaN or 0.
      if (Number.isFinite(p.usage[i])) {
        ratio.heads.push(h[1]);
        ratio.values.push(p.usage[i]!);
      }
      const s = seconds?.get(p.destinations[i]!);
      if (s !== undefined) {
        exhaustion.heads.push(h[2]);
        exhaustion.values.push(s);
      }
    }
    for (const family of ['v4', 'v6'] as const) {
      const on = reading.nonlocalBind[family];
      if (on !== undefined)
        nonlocal.push({ prefix, labels: { family: family === 'v4' ? 'ipv4' : 'ipv6' }, value: on ? 1 : 0 });
    }
  }
  return [
    {
      name: 'safebind_sockets',
      help: 'TCP sockets by state, as ss -tan counts them (sock_diag).',
      type: 'gauge',
      samples: sockets,
    },
    {
      name: 'safebind_port_range_size',
      help: 'Ports in net.ipv4.ip_local_port_range, the ephemeral source-port range.',
      type: 'gauge',
      samples: range,
    },
    {
      name: POOL_GAUGES[0],
      help: 'TCP source ports in use toward a destination (sockets in any state but LISTEN).',
      type: 'gauge',
      samples: [],
      rows: inUse,
    },
    {
      name: POOL_GAUGES[1],
      help: 'Source ports in use toward a destination over the pool (range less reserved ports); connect fails at 1.',
      type: 'gauge',
      samples: [],
      rows: ratio,
    },
    {
      name: POOL_GAUGES[2],
      help: 'Seconds until the source-port pool toward a destination is full at the rate of new connections since the last scrape; +Inf when it does not fill at that rate.',
      type: 'gauge',
      samples: [],
      rows: exhaustion,
    },
    {
      name: 'safebind_nonlocal_bind_enabled',
      help: '1 when net.ipv4.ip_nonlocal_bind (ipv4) or net.ipv6.ip_nonlocal_bind (ipv6) lets any address be bound.',
      type: 'gauge',
      samples: nonlocal,
    },
    {
      name: 'safebind_exporter_netns_read',
      help: '1 when the namespace was entered and its socket table read at this scrape, else 0.',
      type: 'gauge',
      samples: up,
    },
    {
      name: 'safebind_netns_sysctl_distinct_values',
      help: 'Distinct values of a per-namespace sysctl across the network namespaces read; above 1 they differ.',
      type: 'gauge',
      samples: distinctValues(results),
    },
    {
      name: 'safebind_exporter_scrape_duration_seconds',
      help: 'How long reading every namespace took at this scrape.',
      type: 'gauge',
      samples: [{ labels: {}, value: scrapeSeconds }],
    },
  ];
}
