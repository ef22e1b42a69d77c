// TCP sockets that are only bound: bind() done, neither connect() nor listen() yet, each holding its
// port. `ss -tan` does not list them and the counts by state leave them out (NO_PEER_STATES), yet
// they are what a client that sets localAddress holds between its bind and its connect, and what a
// program that binds and never connects or listens holds until it closes. Linux 6.5 and later dump
// them when asked for state 13, BOUND_INACTIVE (a walk of the bind hash: docs/kernel-facts.md), and
// report them in state CLOSE; earlier kernels ignore the bit and answer nothing, so there the count
// is unknown, never 0. /proc/net does not list them either.
import { release } from 'node:os';
import type { Parsed } from '../sys/address.js';
import { countSockets } from './reader.js';

/** Whether sock_diag of this kernel release (`uname -r`) lists sockets only bound: 6.5 and later. */
export function kernelListsBoundOnly(kernelRelease: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(kernelRelease);
  if (m === null) return false;
  const major = Number(m[1]);
  return major > 6 || (major === 6 && Number(m[2]) >= 5);
}

/** How many TCP sockets (IPv4 and IPv6) are only bound, or why that cannot be known here. */
export function countBoundOnly(kernelRelease: string = release()): Parsed<number> {
  if (!kernelListsBoundOnly(kernelRelease))
    return { ok: false, reason: `Linux ${kernelRelease} does not list them (6.5 and later do)` };
  const counted = countSockets({ protocol: 'tcp', states: ['BOUND_INACTIVE'] });
  if (!counted.ok) return { ok: false, reason: counted.error.message };
  if (counted.value.via !== 'sock_diag')
    return { ok: false, reason: '/proc/net does not list them, and sock_diag was not read' };
  return { ok: true, value: counted.value.total };
}
