// The neighbour table of both families (ARP for IPv4, neighbour discovery for IPv6), read with one
// rtnetlink RTM_GETNEIGH dump as `ip neigh show` does: which hosts on a link answer for which
// address. The evidence behind `address-on-other-host` (a VIP live on the VRRP master).
// `probeNeighbour` makes the kernel resolve one address: an ordinary ARP request, or an IPv6
// neighbour solicitation, from this host's own address on the link — not an RFC 5227 probe from
// 0.0.0.0, which needs a raw AF_PACKET socket.
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoResult } from '../sys/errors.js';
import type { Result } from '../types.js';
import { hostBinding } from './failure.js';
import { neighbourAnswered } from '../model/neighbour.js';
import type { Neighbour, NeighbourState } from './types.js';

/**
 * The neighbour table of this network namespace, both families; unanswered (incomplete, failed)
 * and multicast (noarp) entries included, each with its state as `ip neigh` names it.
 */
export function readNeighbours(): Result<Neighbour[]> {
  const load = hostBinding();
  if (!load.ok) return load;
  const b = load.binding;
  const raw = b.neighbours();
  if (typeof raw === 'number') return errnoResult('RTM_GETNEIGH', raw);
  const states = Object.entries(b.constants.neighbourStates) as Array<[NeighbourState, number]>;
  const out: Neighbour[] = [];
  for (const n of raw) {
    // NUD_* states are single bits; an entry is in exactly one. The highest set bit names it when a
    // future kernel combines them.
    const state = states.filter(([, bit]) => (n.state & bit) !== 0).at(-1)?.[0];
    if (state === undefined) continue; // NUD_NONE: an entry being created, nothing to report yet
    out.push({
      address: n.address,
      family: n.family === b.constants.AF_INET6 ? 6 : 4,
      interface: n.ifname ?? `if${n.ifindex}`,
      ...(n.lladdr !== undefined ? { lladdr: n.lladdr } : {}),
      state,
    });
  }
  return { ok: true, value: out };
}

/**
 * Asks the link who has `address` (IPv4 or global IPv6): sends one UDP datagram to its discard port
 * (9), which makes the kernel send an ARP request or a neighbour solicitation, then waits up to
 * `timeoutMs` for the table to hold an answered entry. Resolves that entry, or undefined when nobody
 * answered. Only for an address in the subnet of a local interface: anything else would go to the
 * gateway.
 */
export async function probeNeighbour(address: string, timeoutMs = 1000): Promise<Neighbour | undefined> {
  const socket = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
  socket.on('error', () => {}); // ICMP port unreachable from the owner, or no route: not our concern
  try {
    await new Promise<void>((resolve) => socket.send(Buffer.alloc(1), 9, address, () => resolve()));
    const end = Date.now() + timeoutMs;
    for (;;) {
      const table = readNeighbours();
      const found = table.ok
        ? table.value.find((n) => n.address === address && neighbourAnswered(n))
        : undefined;
      if (found !== undefined || Date.now() >= end) return found;
      await sleep(25);
    }
  } finally {
    socket.close();
  }
}
