// ephemeral-ports-exhausted: no free source port toward that one destination. The pool is per
// (source IP, destination IP, destination port), so the fixes widen or multiply pools, or use fewer ports.
import type { Diagnosis, Family, Remediation } from '../../types.js';
import {
  containingSubnet,
  formatPercent,
  isLoopback,
  poolOf,
  WIDE_PORT_RANGE,
  type Pool,
} from '../../model/index.js';
import type { Context } from '../context.js';
import { hostLength, isUsable } from '../local-address.js';
import { ipAddrCommand, sysctlCommands, widenRangeRemedy } from '../remedies.js';
import {
  destinationText,
  EXHAUSTION_THRESHOLD,
  poolLine,
  sourcePool,
  usageLine,
  usageOf,
} from '../source-pool.js';
import { shellQuote } from '../shell.js';
import { count, listing } from '../text.js';

/** TIME_WAIT is said to dominate, and tcp_tw_reuse to be worth it, from this share of the pool's users. */
const TIME_WAIT_DOMINATES = 0.5;

/** Share of the range held by reserved ports from which releasing some is worth suggesting. */
const RESERVED_NOTABLE = 0.25;

function tcpTwReuseMeaning(value: number): string {
  if (value === 0) return 'TIME_WAIT ports are never reused for new connections';
  if (value === 1) return 'TIME_WAIT ports are reused for new outgoing connections';
  return 'TIME_WAIT ports are reused toward loopback destinations only';
}

/**
 * More source addresses, each with its own pool. Only addresses on the interface that already carries
 * the traffic are offered: another interface's address may not be routed back from the destination.
 */
function moreSourcesRemedy(
  ctx: Context,
  source: string | undefined,
  pool: Pool,
  destination: string,
): Remediation {
  const family: Family = ctx.remote?.family ?? 4;
  const route = ctx.host.route;
  const remoteIp = ctx.remote?.ip;
  const current =
    source ??
    (route?.ok === true ? route.source : undefined) ??
    (remoteIp === undefined ? undefined : containingSubnet(remoteIp, ctx.hostIps)?.address.address);
  const currentEntry = ctx.addresses.find((entry) => entry.address === current);
  const iface = (route?.ok === true ? route.interface : undefined) ?? currentEntry?.interface;
  // Sources whose pool toward the destination is full already: tried by a pool of sources, or read
  // as full among the sources its connections leave from.
  const usage = ctx.host.portUsage;
  const full = new Set([
    ...(ctx.failure.triedSources ?? []),
    ...(usage?.sources ?? [])
      .filter(
        (s) => usage !== undefined && usage.poolSize > 0 && s.inUse / usage.poolSize >= EXHAUSTION_THRESHOLD,
      )
      .map((s) => s.address),
  ]);
  const others = ctx.addresses.filter(
    (entry) =>
      entry.family === family &&
      entry.interface === iface &&
      entry.address !== current &&
      !full.has(entry.address) &&
      isUsable(entry),
  );
  const each = pool.notRead !== undefined ? 'its own pool' : `its own pool of ${count(pool.poolSize)} ports`;
  const title = `Spread connections over more source addresses, each with ${each} toward ${destination}`;
  const warning =
    'Without bindAddressNoPort the bind picks the port before the destination is known, and the port is then held for every destination.';
  const first = others[0];
  if (first !== undefined) {
    return {
      title: `${title} (${iface ?? 'the interface'} also has ${listing(others.map((entry) => entry.address))})`,
      option: `localAddress: '${first.address}', bindAddressNoPort: true`,
      warning,
    };
  }
  const prefixLength = currentEntry?.prefixLength ?? hostLength(family);
  return {
    title: `${title}: add one to ${iface ?? 'the interface'} and connect from it`,
    commands: [ipAddrCommand('add', '<another address>', prefixLength, iface ?? '<interface>')],
    option: "localAddress: '<another address>', bindAddressNoPort: true",
    warning,
  };
}

function twReuseRemedy(twReuse: number | undefined): Remediation {
  const now =
    twReuse === undefined ? 'unknown now' : `now ${twReuse}${twReuse === 2 ? ', loopback only' : ''}`;
  return {
    title: `Let new outgoing connections reuse TIME_WAIT ports: net.ipv4.tcp_tw_reuse=1 (${now})`,
    commands: sysctlCommands('net.ipv4.tcp_tw_reuse', 1),
    warning:
      'For clients (the side that opens the connections, as here), not for servers behind NAT. It relies on TCP ' +
      'timestamps (net.ipv4.tcp_timestamps=1, the default) and is per network namespace.',
  };
}

/**
 * When open connections, not TIME_WAIT, hold most of the pool: fewer at once, or the ones left open
 * found. `ss -p` names the processes that hold them; CLOSE_WAIT among them is a program that never
 * closes what the peer has closed.
 */
function openConnectionsRemedy(open: number, destination: string): Remediation {
  return {
    title:
      `Open fewer connections toward ${destination} at once: ${count(open)} of the pool's sockets are open (not in TIME_WAIT). ` +
      "Cap them (http.Agent maxSockets, a pool's maximum size) or find the ones left open (CLOSE_WAIT: the peer closed, this side never did)",
    commands: [`ss -tnp state connected exclude time-wait dst ${shellQuote(destination)}`],
  };
}

const LINGER_ZERO: Remediation = {
  title: 'Close with SO_LINGER {1, 0} (socket.resetAndDestroy() in Node) so no TIME_WAIT is left',
  option: 'socket.resetAndDestroy()',
  warning:
    'It sends RST: data still in flight is lost, the peer sees ECONNRESET, and new connections lose the ' +
    'protection TIME_WAIT gives against stray segments of old ones. A last resort.',
};

export function ephemeralPortsExhausted(ctx: Context): Diagnosis {
  const usage = ctx.host.portUsage;
  const tcp = ctx.failure.protocol === 'tcp';
  const destination = destinationText(ctx);
  const pool = sourcePool(ctx);
  const timeWait = usage?.byState['TIME_WAIT'] ?? 0;
  const timeWaitShare = usage !== undefined && usage.inUse > 0 ? timeWait / usage.inUse : 0;
  const twReuse = ctx.sysctls?.tcpTwReuse;
  const remoteIp = ctx.remote?.lookup;
  const loopback = remoteIp !== undefined && isLoopback(remoteIp);
  const source = usage?.localAddress ?? ctx.local?.host;
  const reservedNotable = pool.reserved > 0 && pool.reserved >= pool.rangeSize * RESERVED_NOTABLE;

  const details = [
    tcp
      ? `connect to ${destination} failed with ${ctx.code}: the kernel found no free local port for a new connection to it.`
      : `UDP connect to ${destination} failed with ${ctx.code}: the unbound socket found no free local port to take.`,
    poolLine(pool),
  ];
  if (tcp && ctx.code === 'EADDRINUSE') {
    details.push(
      'The source port was chosen by bind() before the destination was known (a localAddress without bindAddressNoPort); ' +
        'with SO_REUSEADDR, which Node sets, that bind shares a port already connected to this destination, and connect finds the 4-tuple taken.',
    );
  }
  if (reservedNotable) {
    details.push(
      `Reserved ports take ${formatPercent(pool.reserved / pool.rangeSize)} of the range, shrinking the pool as much.`,
    );
  }
  details.push(
    usage !== undefined
      ? usageLine(usage)
      : `The source-port pool toward ${destination} could not be counted; this rests on the error code (${ctx.code} at connect is how the kernel reports a full pool).`,
  );
  details.push(
    `The pool is per (source IP, destination IP, destination port): connections to other ports of ${ctx.remote?.host ?? 'that host'}, or from another source address, still find free ports.`,
  );
  if (tcp && timeWait > 0) {
    details.push(
      `${count(timeWait)} of them (${formatPercent(timeWaitShare)}) are in TIME_WAIT: a connection closed by this side keeps its port for 60 s.`,
    );
  }
  if (tcp && twReuse !== undefined) {
    details.push(`net.ipv4.tcp_tw_reuse is ${twReuse}: ${tcpTwReuseMeaning(twReuse)}.`);
  }

  const remediation: Remediation[] = [];
  const widePool = poolOf(WIDE_PORT_RANGE, pool.reservedRanges).poolSize;
  const widen = widenRangeRemedy(
    pool,
    ` (${count(widePool)} ports per destination instead of ${count(pool.poolSize)})`,
  );
  if (widen !== undefined) remediation.push(widen);
  if (reservedNotable) {
    remediation.push({
      title: `Reserve fewer ports: ${count(pool.reserved)} of the range's ${count(pool.rangeSize)} are in net.ipv4.ip_local_reserved_ports`,
      commands: [
        'sysctl net.ipv4.ip_local_reserved_ports',
        'grep -rn ip_local_reserved_ports /etc/sysctl.conf /etc/sysctl.d/',
      ],
    });
  }
  // Figures that show open connections, not TIME_WAIT, filling the pool: the TIME_WAIT fixes would
  // free nothing.
  const openDominate = tcp && usage !== undefined && usage.inUse > 0 && timeWaitShare < TIME_WAIT_DOMINATES;
  if (openDominate) remediation.push(openConnectionsRemedy(usage.inUse - timeWait, destination));
  remediation.push(
    tcp
      ? {
          title:
            'Reuse connections instead of opening one per request: HTTP keep-alive (new http.Agent({ keepAlive: true })), a connection pool',
        }
      : { title: 'Reuse one UDP socket for many messages instead of opening one per message' },
  );
  if (tcp && timeWaitShare >= TIME_WAIT_DOMINATES && twReuse !== 1) {
    if (twReuse === 2 && loopback) {
      details.push('tcp_tw_reuse = 2 already reuses TIME_WAIT ports toward this loopback destination.');
    } else {
      remediation.push(twReuseRemedy(twReuse));
    }
  }
  remediation.push(moreSourcesRemedy(ctx, source, pool, destination));
  remediation.push({
    title:
      'Spread connections over more destination ports or addresses (another listener port, more backend addresses): each destination has its own pool',
  });
  if (tcp && !openDominate) remediation.push(LINGER_ZERO);

  const summary =
    usage?.notRead !== undefined
      ? `Out of source ports toward ${destination}: connect failed with ${ctx.code}; ${count(usage.inUse)} sockets hold ports toward it (the pool's size could not be read)`
      : usage !== undefined
        ? `Out of source ports toward ${destination}: ${count(usage.inUse)} of ${count(usage.poolSize)} in use (${formatPercent(usageOf(usage))})` +
          (tcp && timeWait > 0 ? `, ${formatPercent(timeWaitShare)} of them in TIME_WAIT` : '')
        : `Out of source ports toward ${destination}: connect failed with ${ctx.code} (the pool could not be counted)`;
  return {
    cause: 'ephemeral-ports-exhausted',
    code: ctx.code,
    summary,
    details,
    evidence: {
      destination,
      localAddress: source,
      protocol: ctx.failure.protocol,
      portUsage: usage ?? 'unavailable',
      range: pool.range,
      reserved: pool.reserved,
      poolSize: pool.poolSize,
      tcpTwReuse: twReuse,
      threshold: EXHAUSTION_THRESHOLD,
    },
    remediation,
  };
}
