// address-on-other-host: the address is on no interface here, but another host on the link answers
// for it (the neighbour table holds its link-layer address): a VIP live on the VRRP master, a
// floating IP on the other node. Attaching it here would put the same address on two hosts of one
// link, so the fix is to wait for failover or to look at the owner — never `ip addr add`.
import type { Neighbour } from '../../host/types.js';
import type { Diagnosis } from '../../types.js';
import type { Context } from '../context.js';
import {
  addressEvidence,
  baseEvidence,
  failedLine,
  localOf,
  mappedLine,
  shownLocal,
} from '../local-address.js';
import { formatIp, neighbourAnswered } from '../../model/index.js';
import { waitForAddressRemedy } from '../remedies.js';
import { shellQuote } from '../shell.js';

/**
 * The answered neighbour entry (ARP or IPv6 neighbour discovery) for the bind's address on the link
 * whose subnet contains it. The table's addresses are inet_ntop's text, the canonical form
 * `formatIp` prints.
 */
export function ownerOnTheLink(ctx: Context): Neighbour | undefined {
  const ep = ctx.local;
  if (ep === undefined || ep.present.length > 0 || ep.lookup === undefined) return undefined;
  const family = ep.lookup.family;
  const wanted = formatIp(ep.lookup);
  const link = ep.zone ?? ep.subnet?.interface;
  return (ctx.host.neighbours ?? []).find(
    (n) =>
      n.family === family &&
      n.address === wanted &&
      neighbourAnswered(n) &&
      (link === undefined || n.interface === link),
  );
}

export function addressOnOtherHost(ctx: Context): Diagnosis {
  const ep = localOf(ctx);
  const owner = ownerOnTheLink(ctx);
  // Canonical, as the neighbour table and `ip neigh` print it.
  const address = ep.lookup !== undefined ? formatIp(ep.lookup) : ep.lookupText;
  const iface = owner?.interface ?? ep.subnet?.interface ?? '<interface>';
  const lladdr = owner?.lladdr ?? '<lladdr>';
  const evidence = baseEvidence(ctx, ep);
  evidence['owner'] = owner ?? 'unknown';
  const family = ep.lookup?.family ?? 4;
  evidence['localAddresses'] = ctx.addresses.filter((a) => a.family === family).map(addressEvidence);
  if (ep.subnet !== undefined) evidence['subnet'] = ep.subnet.cidr;
  const v6 = family === 6;
  const ask = v6 ? 'a neighbour solicitation from this host' : 'an ARP request from this host';
  const askCommand = v6
    ? `ndisc6 ${shellQuote(address)} ${shellQuote(iface)}`
    : `arping -c 3 -I ${shellQuote(iface)} ${shellQuote(address)}`;
  return {
    cause: 'address-on-other-host',
    code: ctx.code,
    summary: `Cannot bind ${shownLocal(ep)}: ${address} is not on this host, and another host on ${iface} answers for it (${lladdr}): it is live elsewhere, as a VIP on the VRRP master is`,
    details: [
      failedLine(ctx, ep),
      ...mappedLine(ep),
      `${address} is on no interface of this host${ep.subnet !== undefined ? `, though it lies in ${ep.subnet.interface}'s subnet ${ep.subnet.cidr}` : ''}.`,
      owner?.via === 'arp-probe'
        ? `An ARP probe (RFC 5227, from 0.0.0.0) for ${address} on ${iface} was answered by ${lladdr}: another host on that link has the address now.`
        : `The neighbour table holds ${address} at ${lladdr} on ${iface} (${owner?.state ?? 'answered'}): another host on that link has the address now.`,
      `On a VRRP/keepalived backup this is expected: the VIP belongs to the master until failover. Adding it here too would put one address on two hosts of the link (duplicate ${v6 ? 'neighbour advertisements' : 'ARP answers'}, traffic split between them).`,
      `The table shows who answered last; an entry goes stale after about a minute without traffic. With preflight --probe the link is asked again (${ask}).`,
    ],
    evidence,
    remediation: [
      {
        ...waitForAddressRemedy(`${address} to fail over to this host`, ctx.failure.waitedMs),
        title: `Wait for failover: bind once ${address} moves here (keepalived attaches it when this node becomes master)`,
      },
      {
        title:
          `See which host owns ${address} now, and whether it should` +
          (v6
            ? ' (ndisc6 asks the link; if it is missing, it is in the ndisc6 package on Debian and Ubuntu)'
            : ''),
        commands: [`ip neigh show ${shellQuote(address)} dev ${shellQuote(iface)}`, askCommand],
      },
      {
        title:
          'Bind before the address is here with IP_FREEBIND: the service starts now and receives traffic after failover',
        option: 'freebind: true',
        warning:
          'Only for a standby that should take over the address; it does not take the address from the other host.',
      },
    ],
  };
}
