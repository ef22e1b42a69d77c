// inspectHost(): the triage of this host in one report — addresses and their state, the sysctls that
// decide bind and connect, sockets by state, the busiest destinations with their source-port pool,
// and warnings ordered by severity. What `safebind doctor` prints.
import { release, type as osType } from 'node:os';
import {
  countBoundOnly,
  countSockets,
  hostReader,
  readAddresses,
  readNetSysctls,
  readPortUsage,
  topDestinations,
} from '../host/index.js';
import type { NetSysctls } from '../host/types.js';
import { parseDestinationPort, parseHost } from '../sys/index.js';
import type { Address, HostReport, PortUsage, Protocol } from '../types.js';

/** What {@link inspectHost} reports beyond what it always reads. */
export interface InspectOptions {
  /**
   * Destinations to report the source-port pool for, besides the busiest ones; listed first. One
   * that cannot be parsed or read becomes a warning of the report, not a rejection.
   */
  destinations?: Array<{
    /** The destination IP address (host names are not resolved here). */
    host: string;
    /** The destination port. */
    port: number;
    /** 'tcp' (default) or 'udp'. */
    protocol?: Protocol;
    /** The source address the connections bind, when they bind one. */
    localAddress?: string;
  }>;
  /** How many of the busiest destinations to list (default 5). */
  top?: number;
}

/** Pool usage from which a destination is called out: the rate of new connections will fall, then fail. */
const POOL_WARNING = 0.8;
/** A port range smaller than this is tight for any client that keeps TIME_WAIT for 60 s. */
const SMALL_RANGE = 10_000;

type Severity = 0 | 1 | 2; // 0 critical, 1 warning, 2 note
interface Warning {
  severity: Severity;
  text: string;
}

function addressWarnings(addresses: Address[]): Warning[] {
  const out: Warning[] = [];
  for (const a of addresses) {
    const where = `${a.address}/${a.prefixLength} on ${a.interface}`;
    if (a.flags.includes('dadfailed')) {
      out.push({
        severity: 0,
        text: `${where} failed duplicate address detection: another host on the link owns it`,
      });
    } else if (a.flags.includes('tentative')) {
      const running = a.flags.includes('running');
      const down = !a.flags.includes('up') && !a.unknown?.includes('up');
      out.push({
        severity: 1,
        text: running
          ? `${where} is tentative (duplicate address detection running): binds fail until it ends`
          : down
            ? `${where} is tentative and its link is down: binds fail until the link is brought up and DAD ends`
            : `${where} is tentative and the link has no carrier: binds fail until DAD ends, which waits for carrier unless the link had it since it was brought up`,
      });
    }
    if (!a.flags.includes('up') && a.family === 4 && !a.unknown?.includes('up')) {
      out.push({
        severity: 2,
        text: `${where} is on a link that is down (IPv4 still binds; traffic will not flow)`,
      });
    }
  }
  return out;
}

function sysctlWarnings(s: NetSysctls, timeWait: number | undefined): Warning[] {
  const out: Warning[] = [];
  if (s.ipNonlocalBind.v4) {
    out.push({
      severity: 1,
      text: 'net.ipv4.ip_nonlocal_bind=1: any process may bind addresses this host does not own; bind errors for missing addresses are hidden',
    });
  }
  if (s.ipNonlocalBind.v6) {
    out.push({
      severity: 1,
      text: 'net.ipv6.ip_nonlocal_bind=1: any process may bind IPv6 addresses this host does not own',
    });
  }
  if (s.ipLocalPortRange) {
    const [lo, hi] = s.ipLocalPortRange;
    const size = hi - lo + 1;
    if (size < SMALL_RANGE) {
      out.push({
        severity: 1,
        text: `net.ipv4.ip_local_port_range is ${lo}-${hi} (${size} ports): a client churning to one destination runs out quickly`,
      });
    }
  }
  if (s.tcpTwReuse === 0 && timeWait !== undefined && timeWait > 1000) {
    out.push({
      severity: 2,
      text: `net.ipv4.tcp_tw_reuse=0 with ${timeWait} sockets in TIME_WAIT: outbound connections cannot reuse them`,
    });
  }
  if (s.disableIpv6.absent) out.push({ severity: 2, text: 'IPv6 is not available in this kernel' });
  else if (s.disableIpv6.all)
    out.push({ severity: 2, text: 'IPv6 is disabled (net.ipv6.conf.all.disable_ipv6=1)' });
  for (const [name, why] of Object.entries(s.unreadable)) {
    if (!name.includes('ipv6') || !s.disableIpv6.absent)
      out.push({ severity: 2, text: `${name} could not be read: ${why}` });
  }
  return out;
}

function poolWarnings(pools: PortUsage[]): Warning[] {
  return pools
    .filter((p) => p.notRead === undefined && p.usage >= POOL_WARNING)
    .map((p) => ({
      severity: p.usage >= 0.95 ? 0 : 1,
      text: `source ports toward ${p.destination} are ${Math.round(p.usage * 100)}% used (${p.inUse} of ${p.poolSize}): connects will fail with EADDRNOTAVAIL when it reaches 100%`,
    }));
}

function resolveDestination(d: NonNullable<InspectOptions['destinations']>[number]): PortUsage | string {
  const host = parseHost(d.host);
  // The api speaks of destinations, not of the doctor flag that may have named them.
  if (!host.ok) return `destination ${d.host}: ${host.reason}`;
  const port = parseDestinationPort(d.port);
  if (!port.ok) return `destination ${d.host}: ${port.reason}`;
  const usage = readPortUsage({
    host: host.value.address,
    port: port.value,
    protocol: d.protocol ?? 'tcp',
    ...(d.localAddress !== undefined ? { localAddress: d.localAddress } : {}),
  });
  return usage.ok ? usage.value : `${d.host}:${d.port}: ${usage.error.message}`;
}

/** Throws a TypeError for options of the wrong type; bad values of a destination become warnings. */
function checkInspectOptions(options: unknown): asserts options is InspectOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(
      `inspectHost() takes no argument or { destinations?, top? }, got ${options === null ? 'null' : typeof options}`,
    );
  }
  const o = options as Record<string, unknown>;
  if (o.top !== undefined && (typeof o.top !== 'number' || !Number.isInteger(o.top) || o.top < 0)) {
    throw new TypeError(`inspectHost(): top must be an integer >= 0, got ${String(o.top)}`);
  }
  if (o.destinations === undefined) return;
  if (!Array.isArray(o.destinations)) throw new TypeError('inspectHost(): destinations must be an array');
  o.destinations.forEach((d: unknown, i) => {
    const where = `inspectHost(): destinations[${i}]`;
    if (typeof d !== 'object' || d === null) throw new TypeError(`${where} must be { host, port }`);
    const t = d as Record<string, unknown>;
    if (typeof t.host !== 'string') throw new TypeError(`${where}.host must be a string`);
    if (typeof t.port !== 'number') throw new TypeError(`${where}.port must be a number`);
    if (t.protocol !== undefined && t.protocol !== 'tcp' && t.protocol !== 'udp') {
      throw new TypeError(`${where}.protocol must be 'tcp' or 'udp', got ${String(t.protocol)}`);
    }
    if (t.localAddress !== undefined && typeof t.localAddress !== 'string') {
      throw new TypeError(`${where}.localAddress must be a string`);
    }
  });
}

/**
 * Reads this host's network state (in the caller's network namespace) into a {@link HostReport}:
 * addresses with their flags (tentative, dadfailed, …), the sysctls that decide bind and connect,
 * TCP sockets by state, the busiest destinations with their source-port pool usage, the requested
 * destinations, and warnings, most severe first. Reads only; never changes anything. Throws a
 * TypeError for options of the wrong type (`inspectHost(5)`); off Linux it resolves a report that
 * says so in its warnings.
 */
export async function inspectHost(options: InspectOptions = {}): Promise<HostReport> {
  checkInspectOptions(options);
  const warnings: Warning[] = [];
  const kernel = `${osType()} ${release()}`;
  if (process.platform !== 'linux') {
    return {
      kernel,
      addresses: [],
      sysctls: {},
      sockets: { byState: {}, topDestinations: [] },
      warnings: [`safebind reads Linux hosts only; this is ${process.platform}`],
    };
  }
  // What could not be read is named here and left out of the report, never filled with a default.
  const notRead: Record<string, string> = {};
  // Without the addon, what cannot be read is said once, here, and named in notRead.
  const reader = hostReader();
  if (reader.kind === 'no-addon') {
    notRead.addon = `${reader.reason ?? 'not loaded'}: ${reader.notRead.join(', ')}`;
    warnings.push({
      severity: 1,
      text: `running without the native addon: ${reader.notRead.join(', ')} not read`,
    });
    // Not turned off on purpose (SAFEBIND_ADDON=none): why it did not load is the first thing to fix.
    if (reader.turnedOff !== true)
      warnings.push({
        severity: 1,
        text: `the native addon did not load: ${reader.reason ?? 'no reason given'}`,
      });
  }
  const addresses = readAddresses();
  if (!addresses.ok) {
    notRead.addresses = addresses.error.message;
    warnings.push({ severity: 0, text: `the addresses could not be read: ${addresses.error.message}` });
  }
  const sysctls = readNetSysctls();
  Object.assign(notRead, sysctls.unreadable);
  if (sysctls.disableIpv6.absent) delete notRead['net.ipv6.conf.all.disable_ipv6'];
  // By state as `ss -tan` counts them; the sockets only bound are counted on their own.
  const counts = countSockets({ protocol: 'tcp', excludeStates: ['BOUND_INACTIVE'] });
  if (!counts.ok) {
    notRead.sockets = counts.error.message;
    warnings.push({
      severity: 1,
      text: `the TCP socket table could not be read: ${counts.error.message}`,
    });
  }
  const byState = counts.ok ? counts.value.byState : {};
  const boundOnly = counts.ok ? countBoundOnly() : undefined;
  if (boundOnly?.ok === false) notRead.boundOnly = boundOnly.reason;

  const top = topDestinations(options.top ?? 5);
  if (!top.ok) {
    notRead.topDestinations = top.error.message;
    warnings.push({
      severity: 1,
      text: `the busiest destinations could not be read: ${top.error.message}`,
    });
  }
  const pools: PortUsage[] = top.ok ? [...top.value] : [];
  for (const d of options.destinations ?? []) {
    const usage = resolveDestination(d);
    if (typeof usage === 'string') warnings.push({ severity: 1, text: usage });
    else {
      const same = pools.findIndex(
        (p) => p.destination === usage.destination && p.protocol === usage.protocol,
      );
      if (same >= 0) pools.splice(same, 1);
      pools.unshift(usage);
    }
  }

  if (addresses.ok) {
    warnings.push(...addressWarnings(addresses.value));
    for (const a of addresses.value)
      if (a.unknown?.includes('interface'))
        notRead[`address ${a.address}`] = 'its interface and prefix: no connected route names its link';
  }
  warnings.push(...sysctlWarnings(sysctls, counts.ok ? (byState.TIME_WAIT ?? 0) : undefined));
  const unreadPool = pools.find((p) => p.notRead !== undefined);
  if (unreadPool?.notRead !== undefined)
    warnings.push({
      severity: 1,
      text: `source-port pools could not be computed: ${unreadPool.notRead}`,
    });
  warnings.push(...poolWarnings(pools));
  warnings.sort((a, b) => a.severity - b.severity);

  return {
    kernel,
    addresses: addresses.ok ? addresses.value : [],
    sysctls: sysctls.raw,
    sockets: {
      byState,
      ...(boundOnly?.ok === true ? { boundOnly: boundOnly.value } : {}),
      topDestinations: pools,
    },
    warnings: warnings.map((w) => w.text),
    ...(Object.keys(notRead).length > 0 ? { notRead } : {}),
  };
}
