// Per-process slices of the source-port range (IP_LOCAL_PORT_RANGE, Linux 6.3+): cluster workers that
// each take slice i of n never pick the same port toward the same destination, so they do not race
// each other through the kernel's port search. The slice is computed from this namespace's
// net.ipv4.ip_local_port_range, and the kernel's support is checked on a socket of its own.
import { readPortRange } from '../host/sysctls.js';
import { portRangeSlice } from '../model/index.js';
import { closeSocket, invalidInputError, openSocket } from '../sys/index.js';
import type { Result } from '../types.js';

/** An inclusive [lo, hi] port range, as `localPortRange` takes it. */
export type PortRangeSlice = [number, number];

/**
 * Slice `index` of `count` equal slices of net.ipv4.ip_local_port_range, to pass as
 * `localPortRange` to createAgent, createDispatcher or safeConnect (e.g. `cluster.worker.id - 1` of
 * `os.availableParallelism()`). Resolves a failed Result — never throws for the host — when the
 * range cannot be read, is smaller than `count`, or the kernel does not know IP_LOCAL_PORT_RANGE
 * (before 6.3: `setsockopt ENOPROTOOPT`). A non-integer index or count throws a TypeError.
 */
export function localPortRangeSlice(index: number, count: number): Result<PortRangeSlice> {
  if (!Number.isInteger(index) || !Number.isInteger(count) || count < 1 || index < 0 || index >= count)
    throw new TypeError(`localPortRangeSlice(index, count): 0 ≤ index < count, got (${index}, ${count})`);
  const range = readPortRange();
  if (range === undefined)
    return { ok: false, error: invalidInputError('net.ipv4.ip_local_port_range could not be read') };
  const slice = portRangeSlice(range, index, count);
  if (slice === undefined)
    return {
      ok: false,
      error: invalidInputError(
        `ip_local_port_range ${range[0]}-${range[1]} has fewer ports than ${count} slices`,
      ),
    };
  const probe = openSocket({ family: 4, protocol: 'tcp', options: { localPortRange: slice } });
  if (!probe.ok) return probe;
  closeSocket(probe.value);
  return { ok: true, value: slice };
}
