// The causes of a failed connect: no source port left toward the destination, or no route to it.
import type { RouteLookup } from '../host/types.js';
import type { Diagnosis, Family, PortUsage, Remediation } from '../types.js';
import { guessInterface } from './address-causes.js';
import type { Context } from './context.js';
import { isLoopback } from './ip.js';
import { findContainingSubnet } from './subnet.js';
import { formatRanges, poolOf, reservedWithin, WIDE_PORT_RANGE, type Pool } from './pool.js';
import { attachAddress, ipAddrCommand, sysctlCommands } from './remedies.js';
import { shellArg } from './shell.js';
import { count, describeStates, formatEndpoint, listing, percent } from './text.js';

/**
 * Usage of the source-port pool at which a connect EADDRNOTAVAIL/EAGAIN is called exhaustion. The
 * kernel fails only when every port is taken, but the pool is counted after the failure: connections
 * finish and TIME_WAIT expires (60 s) in between, so a pool that was full reads a little below 100%.
 * Under 90% the figures do not support exhaustion, and the diagnosis says so instead of guessing.
 */
export const EXHAUSTION_THRESHOLD = 0.9;

/** TIME_WAIT is said to dominate, and tcp_tw_reuse to be worth it, from this share of the pool's users. */
const TIME_WAIT_DOMINATES = 0.5;

/** Share of the range held by reserved ports from which releasing some is worth suggesting. */
const RESERVED_NOTABLE = 0.25;

export function usageOf(usage: PortUsage): number {
  if (usage.notRead !== undefined) return NaN;
  return usage.poolSize > 0 ? usage.inUse / usage.poolSize : 1;
}

/** Whether the counted pool supports calling the failure exhaustion (or there is no count at all). */
export function poolLooksExhausted(ctx: Context): boolean {
  const usage = ctx.host.portUsage;
  // An unreadable pool (NaN) cannot contradict the error code, as no count at all cannot.
  return usage === undefined || usage.notRead !== undefined || usageOf(usage) >= EXHAUSTION_THRESHOLD;
}

function destinationText(ctx: Context): string {
  if (ctx.host.portUsage !== undefined) return ctx.host.portUsage.destination;
  return ctx.remote === undefined ? 'the destination' : formatEndpoint(ctx.remote.host, ctx.remote.port);
}

function poolFigures(ctx: Context): Pool {
  const usage = ctx.host.portUsage;
  const pool = poolOf(ctx.sysctls, usage?.range);
  if (usage === undefined || pool.notRead !== undefined) return pool;
  const rangeSize = usage.range[1] - usage.range[0] + 1;
  return { ...pool, range: usage.range, rangeSize, reserved: usage.reserved, poolSize: usage.poolSize };
}

function poolLine(pool: Pool): string {
  if (pool.notRead !== undefined) return `${pool.notRead[0]?.toUpperCase()}${pool.notRead.slice(1)}.`;
  const reserved =
    pool.reserved > 0
      ? `minus ${count(pool.reserved)} reserved in net.ipv4.ip_local_reserved_ports` +
        (pool.reservedRanges.length > 0 ? ` (${formatRanges(pool.reservedRanges)})` : '')
      : 'with no reserved ports';
  return (
    `The pool is net.ipv4.ip_local_port_range ${pool.range[0]}-${pool.range[1]} (${count(pool.rangeSize)} ports) ` +
    `${reserved} = ${count(pool.poolSize)} ports.`
  );
}

function usageLine(usage: PortUsage): string {
  const from = usage.localAddress !== undefined ? ` from ${usage.localAddress}` : '';
  const states = describeStates(usage.byState);
  return (
    `${count(usage.inUse)} sockets hold a port toward ${usage.destination}${from} ` +
    (usage.notRead !== undefined
      ? '(share of the pool unknown)'
      : `(${percent(usageOf(usage))} of the pool)`) +
    `${states !== '' ? `: ${states}` : ''}.`
  );
}

function tcpTwReuseMeaning(value: number): string {
  if (value === 0) return 'TIME_WAIT ports are never reused for new connections';
  if (value === 1) return 'TIME_WAIT ports are reused for new outgoing connections';
  return 'TIME_WAIT ports are reused toward loopback destinations only';
}

/** The figures, for an `unknown` diagnosis of a connect EADDRNOTAVAIL whose pool is not near full. */
export function poolNotFullReasons(ctx: Context): string[] {
  const usage = ctx.host.portUsage;
  if (usage === undefined || usage.notRead !== undefined) return [];
  return [
    `${ctx.code} at connect usually means no free source port toward ${usage.destination}, but only ` +
      `${count(usage.inUse)} of ${count(usage.poolSize)} (${percent(usageOf(usage))}) are in use now; ` +
      `safebind calls it exhaustion from ${percent(EXHAUSTION_THRESHOLD)}.`,
    poolLine(poolFigures(ctx)),
    usageLine(usage),
    'The sockets may have closed since the failure (when the peer closes first, no TIME_WAIT is left on this side), or the failure has another cause.',
  ];
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
  const current =
    source ??
    (route?.ok === true ? route.source : undefined) ??
    (ctx.remote === undefined
      ? undefined
      : findContainingSubnet(ctx.remote.host, ctx.addresses)?.address.address);
  const currentEntry = ctx.addresses.find((entry) => entry.address === current);
  const iface = (route?.ok === true ? route.interface : undefined) ?? currentEntry?.interface;
  const others = ctx.addresses.filter(
    (entry) =>
      entry.family === family &&
      entry.interface === iface &&
      entry.address !== current &&
      !entry.flags.includes('tentative') &&
      !entry.flags.includes('dadfailed'),
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
  const prefixLength = currentEntry?.prefixLength ?? (family === 4 ? 32 : 128);
  return {
    title: `${title}: add one to ${iface ?? 'the interface'} and connect from it`,
    commands: [ipAddrCommand('add', '<another address>', prefixLength, iface ?? '<interface>')],
    option: "localAddress: '<another address>', bindAddressNoPort: true",
    warning,
  };
}

/** ephemeral-ports-exhausted: no free source port toward that one destination. */
export function ephemeralPortsExhausted(ctx: Context): Diagnosis {
  const usage = ctx.host.portUsage;
  const tcp = ctx.failure.protocol === 'tcp';
  const destination = destinationText(ctx);
  const pool = poolFigures(ctx);
  const timeWait = usage?.byState['TIME_WAIT'] ?? 0;
  const timeWaitShare = usage !== undefined && usage.inUse > 0 ? timeWait / usage.inUse : 0;
  const twReuse = ctx.sysctls?.tcpTwReuse;
  const remoteIp = ctx.remote?.lookup;
  const loopback = remoteIp !== undefined && isLoopback(remoteIp);
  const source = usage?.localAddress ?? ctx.local?.host;

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
  if (pool.reserved > 0 && pool.reserved >= pool.rangeSize * RESERVED_NOTABLE) {
    details.push(
      `Reserved ports take ${percent(pool.reserved / pool.rangeSize)} of the range, shrinking the pool as much.`,
    );
  }
  if (usage !== undefined) {
    details.push(usageLine(usage));
  } else {
    details.push(
      `The source-port pool toward ${destination} could not be counted; this rests on the error code (${ctx.code} at connect is how the kernel reports a full pool).`,
    );
  }
  details.push(
    `The pool is per (source IP, destination IP, destination port): connections to other ports of ${ctx.remote?.host ?? 'that host'}, or from another source address, still find free ports.`,
  );
  if (tcp && timeWait > 0) {
    details.push(
      `${count(timeWait)} of them (${percent(timeWaitShare)}) are in TIME_WAIT: a connection closed by this side keeps its port for 60 s.`,
    );
  }
  if (tcp && twReuse !== undefined) {
    details.push(`net.ipv4.tcp_tw_reuse is ${twReuse}: ${tcpTwReuseMeaning(twReuse)}.`);
  }

  const remediation: Remediation[] = [];
  const wide = pool.range[0] <= WIDE_PORT_RANGE[0] && pool.range[1] >= WIDE_PORT_RANGE[1];
  if (pool.notRead !== undefined) {
    remediation.push({
      title: `Read net.ipv4.ip_local_port_range (safebind could not), and widen it to ${WIDE_PORT_RANGE[0]}-${WIDE_PORT_RANGE[1]} if it is narrower`,
      commands: ['sysctl net.ipv4.ip_local_port_range net.ipv4.ip_local_reserved_ports'],
    });
  } else if (!wide) {
    const widePool =
      WIDE_PORT_RANGE[1] - WIDE_PORT_RANGE[0] + 1 - reservedWithin(WIDE_PORT_RANGE, pool.reservedRanges);
    remediation.push({
      title: `Widen the local port range from ${pool.range[0]}-${pool.range[1]} to ${WIDE_PORT_RANGE[0]}-${WIDE_PORT_RANGE[1]} (${count(widePool)} ports per destination instead of ${count(pool.poolSize)})`,
      commands: sysctlCommands('net.ipv4.ip_local_port_range', WIDE_PORT_RANGE.join(' ')),
      warning:
        'Ports in the wider range can be taken by outgoing connections before a service binds them at start-up: ' +
        'list the ports your services listen on in net.ipv4.ip_local_reserved_ports.',
    });
  }
  if (pool.reserved > 0 && pool.reserved >= pool.rangeSize * RESERVED_NOTABLE) {
    remediation.push({
      title: `Reserve fewer ports: ${count(pool.reserved)} of the range's ${count(pool.rangeSize)} are in net.ipv4.ip_local_reserved_ports`,
      commands: [
        'sysctl net.ipv4.ip_local_reserved_ports',
        'grep -rn ip_local_reserved_ports /etc/sysctl.conf /etc/sysctl.d/',
      ],
    });
  }
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
      const now =
        twReuse === undefined ? 'unknown now' : `now ${twReuse}${twReuse === 2 ? ', loopback only' : ''}`;
      remediation.push({
        title: `Let new outgoing connections reuse TIME_WAIT ports: net.ipv4.tcp_tw_reuse=1 (${now})`,
        commands: sysctlCommands('net.ipv4.tcp_tw_reuse', 1),
        warning:
          'For clients (the side that opens the connections, as here), not for servers behind NAT. It relies on TCP ' +
          'timestamps (net.ipv4.tcp_timestamps=1, the default) and is per network namespace.',
      });
    }
  }
  remediation.push(moreSourcesRemedy(ctx, source, pool, destination));
  remediation.push({
    title:
      'Spread connections over more destination ports or addresses (another listener port, more backend addresses): each destination has its own pool',
  });
  if (tcp) {
    remediation.push({
      title: 'Close with SO_LINGER {1, 0} (socket.resetAndDestroy() in Node) so no TIME_WAIT is left',
      option: 'socket.resetAndDestroy()',
      warning:
        'It sends RST: data still in flight is lost, the peer sees ECONNRESET, and new connections lose the ' +
        'protection TIME_WAIT gives against stray segments of old ones. A last resort.',
    });
  }

  const summary =
    usage?.notRead !== undefined
      ? `Out of source ports toward ${destination}: connect failed with ${ctx.code}; ${count(usage.inUse)} sockets hold ports toward it (the pool's size could not be read)`
      : usage !== undefined
        ? `Out of source ports toward ${destination}: ${count(usage.inUse)} of ${count(usage.poolSize)} in use (${percent(usageOf(usage))})` +
          (tcp && timeWait > 0 ? `, ${percent(timeWaitShare)} of them in TIME_WAIT` : '')
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

function describeRoute(route: RouteLookup): string {
  if (!route.ok) return `ip route get ${route.destination} failed with ${route.code}`;
  const parts = [`${route.type} ${route.destination}`];
  if (route.gateway !== undefined) parts.push(`via ${route.gateway}`);
  if (route.interface !== undefined) parts.push(`dev ${route.interface}`);
  if (route.source !== undefined) parts.push(`src ${route.source}`);
  return `ip route get ${route.destination}: ${parts.join(' ')}`;
}

const REJECTING_ROUTES = new Set(['unreachable', 'blackhole', 'prohibit', 'throw']);

/** no-route: the kernel could not send toward the destination. */
export function noRoute(ctx: Context): Diagnosis {
  const remote = ctx.remote;
  const destination = remote?.host ?? ctx.host.route?.destination ?? '<destination>';
  const shownDestination = remote === undefined ? destination : formatEndpoint(remote.host, remote.port);
  const route = ctx.host.route;
  const local = ctx.local;
  const family: Family = remote?.family ?? 4;
  const hostLength = family === 4 ? 32 : 128;
  const sourceGone = local?.lookup !== undefined && ctx.addressesKnown && local.present.length === 0;
  const routeGet = `ip route get ${shellArg(destination)}${local !== undefined ? ` from ${shellArg(local.host)}` : ''}`;
  const details = [`connect to ${shownDestination} failed with ${ctx.code}.`];
  const remediation: Remediation[] = [];
  let summary: string;

  if (sourceGone && local !== undefined) {
    const subnet = local.subnet;
    summary = `Cannot connect to ${shownDestination}: the source address ${local.host} is not on this host`;
    details.push(
      `The connection was bound to ${local.host}, which is on no interface now: it was removed after the bind, or the bind was let through by freebind or ip_nonlocal_bind. A connection from an address the host does not have fails with ENETUNREACH.` +
        (subnet !== undefined ? ` It lies in ${subnet.interface}'s subnet ${subnet.cidr}.` : ''),
    );
    remediation.push(
      attachAddress(
        local.lookupText,
        subnet?.prefixLength ?? (local.family === 6 ? 128 : 32),
        subnet?.interface ?? '<interface>',
      ),
      { title: 'Or connect without localAddress and let the route choose the source' },
    );
  } else if (route === undefined) {
    summary = `Cannot connect to ${shownDestination}: ${ctx.code === 'EHOSTUNREACH' ? 'host' : 'network'} unreachable (the route was not looked up)`;
    details.push('The route toward the destination was not looked up.');
  } else if (!route.ok) {
    summary = `Cannot connect to ${shownDestination}: this host has no route to ${destination}`;
    details.push(
      `${describeRoute(route)}: the routing table has no route toward ${destination}, not even a default route.`,
    );
  } else if (REJECTING_ROUTES.has(route.type)) {
    summary = `Cannot connect to ${shownDestination}: the route toward ${destination} is of type ${route.type}, which rejects it`;
    details.push(
      `${describeRoute(route)}: a route of type ${route.type} was configured to refuse this destination.`,
    );
    remediation.push({
      title: `Find the ${route.type} route and delete it (ip route del <that route>), or add a more specific route`,
      commands: [`ip ${family === 6 ? '-6 ' : ''}route show table all type ${route.type}`],
    });
  } else {
    const hop = route.gateway ?? destination;
    summary =
      ctx.code === 'EHOSTUNREACH'
        ? `Cannot connect to ${shownDestination}: host unreachable, ${hop} on ${route.interface ?? 'the link'} did not answer`
        : `Cannot connect to ${shownDestination}: network unreachable (a route exists now: ${describeRoute(route)})`;
    details.push(`${describeRoute(route)}.`);
    details.push(
      ctx.code === 'EHOSTUNREACH'
        ? `A route exists, so ${hop} did not answer ARP / neighbour discovery, or a router sent back ICMP host unreachable (also what a firewall REJECT rule sends).`
        : 'A route exists now: it was missing when connect ran (an interface or DHCP came up after), or a router sent back ICMP network unreachable.',
    );
    remediation.push({
      title: `Check that ${hop} answers on ${route.interface ?? 'the link'}`,
      commands: [`ip neigh show ${shellArg(hop)}`, `ping -c 3 ${shellArg(hop)}`],
    });
  }
  if (!sourceGone && (route === undefined || !route.ok)) {
    const iface = guessInterface(ctx, family);
    remediation.push({
      title: `Add a route toward ${destination} (fill in the gateway${iface === undefined ? ' and interface' : ''})`,
      commands: [
        `ip route add ${shellArg(destination)}/${hostLength} via <gateway> dev ${shellArg(iface ?? '<interface>')}`,
      ],
    });
  }
  remediation.push({ title: 'See what the kernel chooses toward the destination', commands: [routeGet] });

  const evidence: Record<string, unknown> = {
    destination: shownDestination,
    route: route ?? 'not looked up',
  };
  if (local !== undefined) {
    evidence['localAddress'] = local.host;
    evidence['localAddressPresent'] = local.present.length > 0;
  }
  return { cause: 'no-route', code: ctx.code, summary, details, evidence, remediation };
}
