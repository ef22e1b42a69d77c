// The local port pool: ip_local_port_range minus ip_local_reserved_ports, and what widening the range
// would give. Both sysctls are per network namespace, so these figures are for the caller's one.
import type { NetSysctls } from '../host/types.js';

/** The kernel's default when the sysctl could not be read. */
export const DEFAULT_PORT_RANGE: [number, number] = [32768, 60999];
/** The range safebind suggests: every unprivileged port. */
export const WIDE_PORT_RANGE: [number, number] = [1024, 65535];

export interface Pool {
  range: [number, number];
  rangeSize: number;
  /** Reserved ports inside the range. */
  reserved: number;
  reservedRanges: Array<[number, number]>;
  poolSize: number;
}

export function reservedWithin(range: [number, number], reserved: ReadonlyArray<[number, number]>): number {
  let total = 0;
  for (const [lo, hi] of reserved) {
    const from = Math.max(lo, range[0]);
    const to = Math.min(hi, range[1]);
    if (to >= from) total += to - from + 1;
  }
  return total;
}

export function poolOf(sysctls: NetSysctls | undefined, fallbackRange?: [number, number]): Pool {
  const range = sysctls?.ipLocalPortRange ?? fallbackRange ?? DEFAULT_PORT_RANGE;
  const reservedRanges = sysctls?.ipLocalReservedPorts ?? [];
  const rangeSize = Math.max(0, range[1] - range[0] + 1);
  const reserved = reservedWithin(range, reservedRanges);
  return { range, rangeSize, reserved, reservedRanges, poolSize: rangeSize - reserved };
}

export function formatRanges(ranges: ReadonlyArray<[number, number]>): string {
  return ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',');
}
