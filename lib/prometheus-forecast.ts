// The issue-16 gauges of safebind/prometheus: the forecast of each exported pool, the audits of this
// namespace, and the comparison of per-namespace sysctls. Kept apart from prometheus.ts so the
// exporter's netns label and these can be merged without stepping on each other.
import { Counter, Gauge, type Registry } from 'prom-client';
import { auditHost, type HostAudits } from './api/audits.js';
import { forecastFrom, queryOfUsage } from './api/forecast.js';
import { distinctSysctlValues } from './diagnose/netns-sysctls-audit.js';
import { sampleConnections, type ConnectionSample } from './host/index.js';
import type { NamespaceSysctls } from './host/types.js';
import type { PortUsage, Result } from './types.js';

/** The names of the forecast and audit gauges and counters `registerMetrics` adds too. */
export const FORECAST_METRIC_NAMES = [
  'safebind_port_pool_exhaustion_seconds',
  'safebind_listen_port_unreserved_in_range',
  'safebind_conntrack_loaded',
  'safebind_conntrack_entries',
  'safebind_conntrack_max',
  'safebind_conntrack_insert_failed_total',
  'safebind_conntrack_drop_total',
  'safebind_conntrack_early_drop_total',
] as const;

/**
 * The forecast and audit gauges, reading `pools()` (the snapshot registerMetrics shares) at each
 * scrape. `safebind_port_pool_exhaustion_seconds{destination}` compares this scrape's reading of a
 * destination's sockets with the previous scrape's (new connections counted by socket cookie): the
 * seconds until its pool is full at that rate; `+Inf` when the pool does not fill at that rate (no
 * new connections, or a steady state that fits), as Prometheus writes a value that is never reached,
 * so `< 300` alerts need no special case; no sample on the first scrape of a destination or when a
 * figure it needs could not be read (unknown is not infinite).
 */
export function forecastAndAuditGauges(pools: () => Promise<Result<PortUsage[]>>): Array<Gauge | Counter> {
  const previous = new Map<string, ConnectionSample>();
  let audits: Promise<HostAudits> | undefined;
  const audit = (): Promise<HostAudits> => {
    audits ??= Promise.resolve()
      .then(auditHost)
      .finally(() => {
        audits = undefined;
      });
    return audits;
  };
  const conntrack = (
    name: string,
    help: string,
    pick: (a: HostAudits) => number | undefined,
    counter = false,
  ) => {
    const config = {
      name,
      help,
      registers: [],
      async collect(this: Gauge | Counter) {
        const v = pick(await audit());
        this.reset();
        if (v === undefined) this.remove();
        else if (this instanceof Counter) this.inc(v);
        else this.set(v);
      },
    };
    return counter ? new Counter(config) : new Gauge(config);
  };
  const ct = (a: HostAudits) => (a.conntrack.loaded === true ? a.conntrack : undefined);
  return [
    new Gauge({
      name: 'safebind_port_pool_exhaustion_seconds',
      help: 'Seconds until the source-port pool toward a destination is full at the rate of new connections since the last scrape; +Inf when it does not fill at that rate.',
      labelNames: ['destination'],
      registers: [],
      async collect() {
        const listed = await pools();
        this.reset();
        if (!listed.ok) return;
        const seen = new Set<string>();
        for (const u of listed.value) {
          const q = queryOfUsage(u);
          if (!q) continue;
          const key = `${u.protocol} ${u.destination} ${u.localAddress ?? ''}`;
          seen.add(key);
          const now = sampleConnections(q);
          if (!now.ok) continue;
          const before = previous.get(key);
          previous.set(key, now.value);
          if (!before) continue;
          const f = forecastFrom(q, before, now.value);
          if (!f.ok) continue;
          const { exhaustionSeconds: s, unknown } = f.value;
          if (s !== null) this.set({ destination: u.destination }, s);
          else if (unknown === 'no-new-connections' || unknown === 'steady-state-fits')
            this.set({ destination: u.destination }, Infinity);
        }
        for (const key of previous.keys()) if (!seen.has(key)) previous.delete(key);
      },
    }),
    new Gauge({
      name: 'safebind_listen_port_unreserved_in_range',
      help: 'A listening port inside net.ipv4.ip_local_port_range and not in ip_local_reserved_ports (1): connect() may take it while the service restarts.',
      labelNames: ['protocol', 'port'],
      registers: [],
      async collect() {
        const a = await audit();
        this.reset();
        for (const l of a.reservedPorts?.exposed ?? [])
          this.set({ protocol: l.protocol, port: String(l.port) }, 1);
      },
    }),
    conntrack(
      'safebind_conntrack_loaded',
      '1 when nf_conntrack is loaded (its /proc/sys/net/netfilter files exist), else 0.',
      (a) => (a.conntrack.loaded === 'unknown' ? undefined : a.conntrack.loaded ? 1 : 0),
    ),
    conntrack(
      'safebind_conntrack_entries',
      'net.netfilter.nf_conntrack_count: entries in this namespace.',
      (a) => ct(a)?.count,
    ),
    conntrack(
      'safebind_conntrack_max',
      'net.netfilter.nf_conntrack_max: the table limit (one for the host).',
      (a) => ct(a)?.max,
    ),
    conntrack(
      'safebind_conntrack_insert_failed_total',
      'insert_failed of /proc/net/stat/nf_conntrack, summed over CPUs.',
      (a) => ct(a)?.insertFailed,
      true,
    ),
    conntrack(
      'safebind_conntrack_drop_total',
      'drop of /proc/net/stat/nf_conntrack, summed over CPUs.',
      (a) => ct(a)?.drop,
      true,
    ),
    conntrack(
      'safebind_conntrack_early_drop_total',
      'early_drop of /proc/net/stat/nf_conntrack, summed over CPUs.',
      (a) => ct(a)?.earlyDrop,
      true,
    ),
  ];
}

/**
 * Registers `safebind_netns_sysctl_distinct_values{sysctl}`: how many distinct values
 * net.ipv4.ip_local_port_range and net.ipv4.tcp_tw_reuse have across the namespaces `read()`
 * returns at scrape time (1 = they agree; above 1 they differ). For the exporter, which reads every
 * namespace; a namespace where a sysctl was not read does not count toward it.
 */
export function registerNamespaceAuditMetrics(
  registry: Registry,
  read: () => NamespaceSysctls[] | Promise<NamespaceSysctls[]>,
): void {
  registry.registerMetric(
    new Gauge({
      name: 'safebind_netns_sysctl_distinct_values',
      help: 'Distinct values of a per-namespace sysctl across the network namespaces read; above 1 they differ.',
      labelNames: ['sysctl'],
      registers: [],
      async collect() {
        const readings = await read();
        this.reset();
        for (const { sysctl, values } of distinctSysctlValues(readings)) this.set({ sysctl }, values);
      },
    }),
  );
}
