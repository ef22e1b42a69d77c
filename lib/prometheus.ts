// safebind/prometheus: the host's TCP socket table and source-port pools as Prometheus gauges, read from
// the kernel when Prometheus scrapes (gauge collect callbacks), never by a timer of ours. prom-client is
// an optional peer dependency that only this entry point imports.
import { Gauge, type Registry } from 'prom-client';
import { countSockets, readNetSysctls, readPortUsage, topDestinations } from './host/index.js';
import type { NetSysctls } from './host/types.js';
import { parseTarget } from './sys/address.js';
import type { PortUsage, Result } from './types.js';
// Issue 16: forecast and audit gauges, in a file of their own.
import { FORECAST_METRIC_NAMES, forecastAndAuditGauges } from './prometheus-forecast.js';

export { FORECAST_METRIC_NAMES, registerNamespaceAuditMetrics } from './prometheus-forecast.js';
export type { NamespaceSysctls } from './host/types.js';

/** Options of {@link registerMetrics}. */
export interface MetricsOptions {
  /**
   * Destinations whose source-port pool is exported, as `HOST:PORT` or `[IPV6]:PORT` with an IP
   * literal (`10.0.0.7:5432`, `[fd00::7]:443`): the database, the upstream, the cache a service
   * connects to. When absent or empty, the busiest destinations of the moment are exported instead.
   */
  destinations?: string[];
  /** How many of the busiest destinations to export when `destinations` is not given. Default 5. */
  top?: number;
}

/** The names of the gauges {@link registerMetrics} adds, for dashboards and for unregistering. */
export const METRIC_NAMES = [
  'safebind_sockets',
  'safebind_port_range_size',
  'safebind_port_pool_in_use',
  'safebind_port_pool_usage_ratio',
  'safebind_nonlocal_bind_enabled',
] as const;

const DEFAULT_TOP = 5;

interface Snapshot {
  sockets: Result<Record<string, number>>;
  sysctls: NetSysctls;
  pools: Result<PortUsage[]>;
}

function readPools(destinations: Array<{ host: string; port: number }>, top: number): Result<PortUsage[]> {
  if (destinations.length === 0) return topDestinations(top);
  const pools: PortUsage[] = [];
  for (const d of destinations) {
    const usage = readPortUsage({ host: d.host, port: d.port, protocol: 'tcp' });
    if (!usage.ok) return usage;
    pools.push(usage.value);
  }
  return { ok: true, value: pools };
}

function parseDestinations(list: unknown): Array<{ host: string; port: number }> {
  if (list === undefined) return [];
  if (!Array.isArray(list))
    throw new TypeError('safebind: options.destinations must be an array of HOST:PORT strings');
  return list.map((item: unknown) => {
    if (typeof item !== 'string') {
      throw new TypeError(`safebind: each destination must be a HOST:PORT string, got ${typeof item}`);
    }
    const target = parseTarget(item);
    if (!target.ok) throw new TypeError(`safebind: destination ${JSON.stringify(item)}: ${target.reason}`);
    if (target.value.kind !== 'address') {
      throw new TypeError(
        `safebind: destination ${JSON.stringify(item)} names a host; the socket table knows only addresses, so give its IP`,
      );
    }
    return { host: target.value.address.address, port: target.value.port };
  });
}

/**
 * Registers safebind's gauges on a prom-client registry; their values are read from the kernel at
 * each scrape.
 *
 * - `safebind_sockets{state}`: TCP sockets by state (`ESTABLISHED`, `TIME_WAIT`, …), IPv4 and IPv6,
 *   counted by sock_diag in the kernel as `ss -tan` does.
 * - `safebind_port_range_size`: ports in `net.ipv4.ip_local_port_range` (it governs IPv6 too).
 * - `safebind_port_pool_in_use{destination}`: TCP sockets in any state but LISTEN holding a source port
 *   toward the destination.
 * - `safebind_port_pool_usage_ratio{destination}`: in use divided by the pool (the range less
 *   `net.ipv4.ip_local_reserved_ports`); connect fails with EADDRNOTAVAIL at 1.
 * - `safebind_nonlocal_bind_enabled{family}`: 1 when `net.ipv4.ip_nonlocal_bind` (family `ipv4`) or
 *   `net.ipv6.ip_nonlocal_bind` (family `ipv6`) is set.
 * - `safebind_port_pool_exhaustion_seconds{destination}`: seconds until the pool is full at the rate of
 *   new connections since the previous scrape (counted by socket cookie); `+Inf` when it does not fill
 *   at that rate; no sample on a destination's first scrape or when a figure could not be read.
 * - `safebind_listen_port_unreserved_in_range{protocol,port}`: 1 for each listening port inside the
 *   ephemeral range that `ip_local_reserved_ports` does not hold.
 * - `safebind_conntrack_loaded`, `safebind_conntrack_entries`, `safebind_conntrack_max`, and the
 *   counters `safebind_conntrack_{insert_failed,drop,early_drop}_total` (summed over CPUs); no
 *   entries or counters when conntrack is not loaded (`safebind_conntrack_loaded` 0).
 *
 * The pool gauges cover `options.destinations`, or, when none are given, the `options.top` busiest
 * destinations at scrape time. Every gauge of one scrape comes from one reading of the host. All
 * readings are of the network namespace of the process. When a reading fails (sock_diag refused and
 * /proc/net unreadable, say), its gauges are left empty for that scrape instead of failing the
 * scrape of the whole registry.
 *
 * @param registry The prom-client `Registry` to add the gauges to (often `register`, the default one).
 * @param options Which destinations' source-port pools to export.
 * @throws TypeError when `registry` is not a registry, or a destination is not an `IP:PORT` string
 *   (a host name, a missing port, an address that does not parse); an Error when the registry
 *   already holds one of {@link METRIC_NAMES} (registerMetrics was called twice); nothing is added then.
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { registerMetrics } from 'safebind/prometheus';
 * const registry = new Registry();
 * registerMetrics(registry, { destinations: ['10.0.0.7:5432'] });
 * ```
 */
export function registerMetrics(registry: Registry, options: MetricsOptions = {}): void {
  if (typeof registry !== 'object' || registry === null || typeof registry.registerMetric !== 'function') {
    throw new TypeError('safebind: registerMetrics needs a prom-client Registry');
  }
  if (typeof options !== 'object' || options === null)
    throw new TypeError('safebind: options must be an object');
  for (const name of [...METRIC_NAMES, ...FORECAST_METRIC_NAMES]) {
    // Checked before any is added, so a second call leaves the registry as it was.
    if (registry.getSingleMetric(name)) {
      throw new Error(`safebind: the registry already has ${name}; registerMetrics was called twice`);
    }
  }
  const destinations = parseDestinations(options.destinations);
  const top = options.top ?? DEFAULT_TOP;
  if (!Number.isInteger(top) || top < 1)
    throw new TypeError('safebind: options.top must be a positive integer');

  // prom-client starts every gauge's collect() in the same tick of a scrape; they share one reading,
  // dropped once it settles so the next scrape reads the host afresh.
  let pending: Promise<Snapshot> | undefined;
  const snapshot = (): Promise<Snapshot> => {
    pending ??= Promise.resolve()
      .then((): Snapshot => {
        // As ss -tan counts: not the sockets only bound (see NO_PEER_STATES).
        const counted = countSockets({ protocol: 'tcp', excludeStates: ['BOUND_INACTIVE'] });
        return {
          sockets: counted.ok ? { ok: true, value: counted.value.byState } : counted,
          sysctls: readNetSysctls(),
          pools: readPools(destinations, top),
        };
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
  // One gauge per figure of each destination's PortUsage, labelled by destination.
  const poolGauge = (name: string, help: string, value: (u: PortUsage) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['destination'],
      registers: [],
      async collect() {
        const { pools } = await snapshot();
        this.reset();
        if (!pools.ok) return;
        for (const u of pools.value) {
          // A pool whose range could not be read has no ratio: no sample, rather than NaN or 0.
          const v = value(u);
          if (Number.isFinite(v)) this.set({ destination: u.destination }, v);
        }
      },
    });
  const gauges = [
    new Gauge({
      name: 'safebind_sockets',
      help: 'TCP sockets by state, as ss -tan counts them (sock_diag).',
      labelNames: ['state'],
      registers: [],
      async collect() {
        const { sockets } = await snapshot();
        this.reset();
        if (!sockets.ok) return;
        for (const [state, n] of Object.entries(sockets.value)) this.set({ state }, n);
      },
    }),
    new Gauge({
      name: 'safebind_port_range_size',
      help: 'Ports in net.ipv4.ip_local_port_range, the ephemeral source-port range.',
      registers: [],
      async collect() {
        const { sysctls } = await snapshot();
        this.reset();
        // Unreadable: no sample, rather than a default range. A gauge without labels still prints 0
        // after reset(); remove() with no labels drops that sample.
        if (!sysctls.ipLocalPortRange) {
          this.remove();
          return;
        }
        const [lo, hi] = sysctls.ipLocalPortRange;
        this.set(hi >= lo ? hi - lo + 1 : 0);
      },
    }),
    poolGauge(
      'safebind_port_pool_in_use',
      'TCP source ports in use toward a destination (sockets in any state but LISTEN).',
      (u) => u.inUse,
    ),
    poolGauge(
      'safebind_port_pool_usage_ratio',
      'Source ports in use toward a destination over the pool (range less reserved ports); connect fails at 1.',
      (u) => u.usage,
    ),
    new Gauge({
      name: 'safebind_nonlocal_bind_enabled',
      help: '1 when net.ipv4.ip_nonlocal_bind (ipv4) or net.ipv6.ip_nonlocal_bind (ipv6) lets any address be bound.',
      labelNames: ['family'],
      registers: [],
      async collect() {
        const { sysctls } = await snapshot();
        this.reset();
        for (const [family, on] of [
          ['ipv4', sysctls.ipNonlocalBind.v4],
          ['ipv6', sysctls.ipNonlocalBind.v6],
        ] as const) {
          if (!(`net.${family}.ip_nonlocal_bind` in sysctls.unreadable)) this.set({ family }, on ? 1 : 0);
        }
      },
    }),
  ];
  for (const gauge of gauges) registry.registerMetric(gauge);
  // Issue 16: the forecast of each exported pool and the audits (prometheus-forecast.ts).
  for (const metric of forecastAndAuditGauges(async () => (await snapshot()).pools))
    registry.registerMetric(metric);
}
