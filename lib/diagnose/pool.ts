// The local port pool: ip_local_port_range minus ip_local_reserved_ports, and what widening the range
// would give. Both sysctls are per network namespace, so these figures are for the caller's one.
import type { NetSysctls } from '../host/types.js';

/** The range safebind suggests: every unprivileged port. */
export const WIDE_PORT_RANGE: [number, number] = [1024, 65535];

export interface Pool {
  range: [number, number];
  rangeSize: number;
  /** Reserved ports inside the range. */
  reserved: number;
  reservedRanges: Array<[number, number]>;
  poolSize: number;
  /**
   * Set when net.ipv4.ip_local_port_range could not be read: what to say instead of a figure. The
   * numbers are then NaN; no default range is assumed.
   */
  notRead?: string;
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
  const known = (r?: [number, number]) =>
    r && Number.isFinite(r[0]) && Number.isFinite(r[1]) ? r : undefined;
  const range = known(sysctls?.ipLocalPortRange) ?? known(fallbackRange);
  if (!range) {
    const why = sysctls?.unreadable['net.ipv4.ip_local_port_range'] ?? 'not read';
    return {
      range: [NaN, NaN],
      rangeSize: NaN,
      reserved: NaN,
      reservedRanges: [],
      poolSize: NaN,
      notRead: `the local port range (net.ipv4.ip_local_port_range) could not be read (${why}), so the pool's size is not known`,
    };
  }
  const reservedRanges = sysctls?.ipLocalReservedPorts ?? [];
  const rangeSize = Math.max(0, range[1] - range[0] + 1);
  const reserved = reservedWithin(range, reservedRanges);
  return { range, rangeSize, reserved, reservedRanges, poolSize: rangeSize - reserved };
}

export function formatRanges(ranges: ReadonlyArray<[number, number]>): string {
  return ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',');
}
