// no-route: connect ENETUNREACH or EHOSTUNREACH. The route lookup says whether a route is missing,
// rejects the destination, or exists and the next hop did not answer; or the source address is gone.
import type { RouteLookup } from '../../host/types.js';
import { groupKind } from '../../model/index.js';
import type { Diagnosis, Family, Remediation } from '../../types.js';
import type { Context } from '../context.js';
import { guessInterface, hostLength } from '../local-address.js';
import { attachAddress } from '../remedies.js';
import { shellQuote } from '../shell.js';
import { formatEndpoint } from '../text.js';

const REJECTING_ROUTES = new Set(['unreachable', 'blackhole', 'prohibit', 'throw']);

function describeRoute(route: RouteLookup): string {
  if (!route.ok) return `ip route get ${route.destination} failed with ${route.code}`;
  const parts = [`${route.type} ${route.destination}`];
  if (route.gateway !== undefined) parts.push(`via ${route.gateway}`);
  if (route.interface !== undefined) parts.push(`dev ${route.interface}`);
  if (route.source !== undefined) parts.push(`src ${route.source}`);
  return `ip route get ${route.destination}: ${parts.join(' ')}`;
}

interface Finding {
  summary: string;
  details: string[];
  remediation: Remediation[];
}

/**
 * TCP toward a group of hosts, told by the address itself (multicast, 255.255.255.255) or by the
 * kernel's route (a subnet's broadcast address): Linux refuses the connect with ENETUNREACH before it
 * sends anything (tcp_v4_connect, tcp_v6_connect), whatever the routes.
 */
function groupFinding(ctx: Context, shownDestination: string, destination: string): Finding | undefined {
  if (ctx.failure.protocol !== 'tcp') return undefined;
  const route = ctx.host.route;
  const byAddress = ctx.remote?.ip !== undefined ? groupKind(ctx.remote.ip) : undefined;
  const byRoute =
    route?.ok === true && (route.type === 'broadcast' || route.type === 'multicast') ? route.type : undefined;
  const kind = byAddress ?? byRoute;
  if (kind === undefined) return undefined;
  return {
    summary: `Cannot connect to ${shownDestination} over TCP: ${destination} is a ${kind} address`,
    details: [
      byAddress !== undefined
        ? `${destination} is a ${kind} address (${kind === 'multicast' ? 'in 224.0.0.0/4 or ff00::/8' : 'the limited broadcast'}).`
        : `${describeRoute(route!)}: the kernel routes ${destination} as ${kind} (a subnet's broadcast address).`,
      `TCP connects to one host: Linux refuses a TCP connect toward a ${kind} address with ENETUNREACH before it sends anything, whatever the routes. Only UDP sends to it.`,
    ],
    remediation: [
      { title: `Connect to the unicast address of the host meant (a ${kind} address is for UDP)` },
    ],
  };
}

/** What the route lookup (or its absence) says, when the source address is not the problem. */
function routeFinding(ctx: Context, shownDestination: string, destination: string, family: Family): Finding {
  const route = ctx.host.route;
  if (route === undefined) {
    return {
      summary: `Cannot connect to ${shownDestination}: ${ctx.code === 'EHOSTUNREACH' ? 'host' : 'network'} unreachable (the route was not looked up)`,
      details: ['The route toward the destination was not looked up.'],
      remediation: [],
    };
  }
  if (!route.ok) {
    return {
      summary: `Cannot connect to ${shownDestination}: this host has no route to ${destination}`,
      details: [
        `${describeRoute(route)}: the routing table has no route toward ${destination}, not even a default route.`,
      ],
      remediation: [],
    };
  }
  if (REJECTING_ROUTES.has(route.type)) {
    return {
      summary: `Cannot connect to ${shownDestination}: the route toward ${destination} is of type ${route.type}, which rejects it`,
      details: [
        `${describeRoute(route)}: a route of type ${route.type} was configured to refuse this destination.`,
      ],
      remediation: [
        {
          title: `Find the ${route.type} route and delete it (ip route del <that route>), or add a more specific route`,
          commands: [`ip ${family === 6 ? '-6 ' : ''}route show table all type ${route.type}`],
        },
      ],
    };
  }
  const hop = route.gateway ?? destination;
  const hostUnreachable = ctx.code === 'EHOSTUNREACH';
  return {
    summary: hostUnreachable
      ? `Cannot connect to ${shownDestination}: host unreachable, ${hop} on ${route.interface ?? 'the link'} did not answer`
      : `Cannot connect to ${shownDestination}: network unreachable (a route exists now: ${describeRoute(route)})`,
    details: [
      `${describeRoute(route)}.`,
      hostUnreachable
        ? `A route exists, so ${hop} did not answer ARP / neighbour discovery, or a router sent back ICMP host unreachable (also what a firewall REJECT rule sends).`
        : 'A route exists now: it was missing when connect ran (an interface or DHCP came up after), or a router sent back ICMP network unreachable.',
    ],
    remediation: [
      {
        title: `Check that ${hop} answers on ${route.interface ?? 'the link'}`,
        commands: [`ip neigh show ${shellQuote(hop)}`, `ping -c 3 ${shellQuote(hop)}`],
      },
    ],
  };
}

export function noRoute(ctx: Context): Diagnosis {
  const remote = ctx.remote;
  const destination = remote?.host ?? ctx.host.route?.destination ?? '<destination>';
  const shownDestination = remote === undefined ? destination : formatEndpoint(remote.host, remote.port);
  const route = ctx.host.route;
  const local = ctx.local;
  const family: Family = remote?.family ?? 4;
  const sourceGone = local?.lookup !== undefined && ctx.addressesKnown && local.present.length === 0;
  const routeGet = `ip route get ${shellQuote(destination)}${local !== undefined ? ` from ${shellQuote(local.host)}` : ''}`;
  let finding: Finding;
  const group = groupFinding(ctx, shownDestination, destination);

  if (sourceGone && local !== undefined) {
    const subnet = local.subnet;
    finding = {
      summary: `Cannot connect to ${shownDestination}: the source address ${local.host} is not on this host`,
      details: [
        `The connection was bound to ${local.host}, which is on no interface now: it was removed after the bind, or the bind was let through by freebind or ip_nonlocal_bind. A connection from an address the host does not have fails with ENETUNREACH.` +
          (subnet !== undefined ? ` It lies in ${subnet.interface}'s subnet ${subnet.cidr}.` : ''),
      ],
      remediation: [
        attachAddress(
          local.lookupText,
          subnet?.prefixLength ?? hostLength(local.family === 6 ? 6 : 4),
          subnet?.interface ?? '<interface>',
        ),
        { title: 'Or connect without localAddress and let the route choose the source' },
      ],
    };
  } else {
    finding = group ?? routeFinding(ctx, shownDestination, destination, family);
  }
  const remediation = finding.remediation;
  // No route added would make TCP reach a group of hosts.
  if (!sourceGone && group === undefined && (route === undefined || !route.ok)) {
    const iface = guessInterface(ctx, family);
    remediation.push({
      title: `Add a route toward ${destination} (fill in the gateway${iface === undefined ? ' and interface' : ''})`,
      commands: [
        `ip route add ${shellQuote(destination)}/${hostLength(family)} via ${shellQuote('<gateway>')} dev ${shellQuote(iface ?? '<interface>')}`,
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
  return {
    cause: 'no-route',
    code: ctx.code,
    summary: finding.summary,
    details: [`connect to ${shownDestination} failed with ${ctx.code}.`, ...finding.details],
    evidence,
    remediation,
  };
}
