// The IPv4 neighbour table (ARP), read from /proc/net/arp: which hosts on a link answer for which
// address. The evidence behind `address-on-other-host` (a VIP live on the VRRP master). IPv6
// neighbours are not read yet: that needs rtnetlink RTM_GETNEIGH, which the addon does not have.
// `probeNeighbour` makes the kernel resolve one address (an ordinary ARP request from this host's
// own address on the link, not an RFC 5227 probe from 0.0.0.0, which needs a raw AF_PACKET socket).
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Result } from '../types.js';
import type { Neighbour } from './types.js';

// include/uapi/linux/if_arp.h
const ATF_COM = 0x02;
const ATF_PERM = 0x04;

/** The IPv4 neighbour table of this network namespace; incomplete (unanswered) entries included. */
export function readNeighbours(): Result<Neighbour[]> {
  let text: string;
  try {
    text = readFileSync('/proc/net/arp', 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return {
      ok: false,
      error: {
        syscall: 'open',
        errno: Math.abs(Number(err.errno ?? 0)),
        code: err.code ?? 'EIO',
        message: `open /proc/net/arp: ${err.code ?? err.message}`,
      },
    };
  }
  const neighbours: Neighbour[] = [];
  // IP address  HW type  Flags  HW address  Mask  Device
  for (const line of text.split('\n').slice(1)) {
    const [address, , flagsText, lladdr, , device] = line.trim().split(/\s+/);
    if (address === undefined || device === undefined || flagsText === undefined) continue;
    const flags = Number.parseInt(flagsText, 16);
    const complete = (flags & ATF_COM) !== 0;
    neighbours.push({
      address,
      family: 4,
      interface: device,
      ...(complete && lladdr !== undefined ? { lladdr } : {}),
      state: (flags & ATF_PERM) !== 0 ? 'permanent' : complete ? 'reachable' : 'incomplete',
    });
  }
  return { ok: true, value: neighbours };
}

/**
 * Asks the link who has `address` (IPv4): sends one UDP datagram to its discard port (9), which
 * makes the kernel send an ARP request, then waits up to `timeoutMs` for the neighbour table to
 * hold an answered entry. Resolves that entry, or undefined when nobody answered. Only for an
 * address in the subnet of a local interface: anything else would go to the gateway.
 */
export async function probeNeighbour(address: string, timeoutMs = 1000): Promise<Neighbour | undefined> {
  const socket = createSocket('udp4');
  socket.on('error', () => {}); // ICMP port unreachable from the owner, or no route: not our concern
  try {
    await new Promise<void>((resolve) => socket.send(Buffer.alloc(1), 9, address, () => resolve()));
    const end = Date.now() + timeoutMs;
    for (;;) {
      const table = readNeighbours();
      const found = table.ok
        ? table.value.find((n) => n.address === address && n.state !== 'incomplete')
        : undefined;
      if (found !== undefined || Date.now() >= end) return found;
      await sleep(25);
    }
  } finally {
    socket.close();
  }
}
