// The local port pool: ip_local_port_range minus the ip_local_reserved_ports inside it, and how full
// it is. Both sysctls are per network namespace, so the figures are for the namespace they were read in.

/** An inclusive range of ports: [32768, 60999]. */
export type PortRange = [number, number];

/** The range safebind suggests: every unprivileged port. */
export const WIDE_PORT_RANGE: PortRange = [1024, 65535];

export interface Pool {
  range: PortRange;
  rangeSize: number;
  /** Reserved ports inside the range. */
  reserved: number;
  reservedRanges: PortRange[];
  /** The range less the reserved ports inside it. */
  poolSize: number;
  /**
   * Set when the range could not be read: what to say instead of a figure. The numbers are then NaN;
   * no default range is assumed.
   */
  notRead?: string;
}

/** How many ports [lo, hi] holds; 0 for an empty (inverted) range. */
export function rangeSize(range: Readonly<PortRange>): number {
  return Math.max(0, range[1] - range[0] + 1);
}

/** How many ports of `range` the `reserved` ranges cover. */
export function reservedWithin(
  range: Readonly<PortRange>,
  reserved: ReadonlyArray<Readonly<PortRange>>,
): number {
  let total = 0;
  for (const [lo, hi] of reserved) {
    const from = Math.max(lo, range[0]);
    const to = Math.min(hi, range[1]);
    if (to >= from) total += to - from + 1;
  }
  return total;
}

/** The pool of `range` once the `reserved` ports inside it are taken out. */
export function poolOf(range: PortRange, reservedRanges: PortRange[] = []): Pool {
  const size = rangeSize(range);
  const reserved = reservedWithin(range, reservedRanges);
  return { range, rangeSize: size, reserved, reservedRanges, poolSize: Math.max(0, size - reserved) };
}

/** "8080,9000-9010" (net.ipv4.ip_local_reserved_ports as the kernel prints it) as inclusive ranges. */
export function parsePortRanges(text: string): PortRange[] {
  const out: PortRange[] = [];
  for (const item of text.split(',')) {
    const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(item);
    if (!m) continue;
    const lo = Number(m[1]);
    out.push([lo, m[2] === undefined ? lo : Number(m[2])]);
  }
  return out;
}

/** "32768 60999" (net.ipv4.ip_local_port_range as the kernel prints it), or undefined. */
export function parsePortRange(text: string): PortRange | undefined {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** The inverse of {@link parsePortRanges}: '8080,9000-9010'. */
export function formatRanges(ranges: ReadonlyArray<Readonly<PortRange>>): string {
  return ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',');
}

/**
 * inUse / poolSize. A pool of no ports is full (1): every connect or bind(…, 0) from it fails, so it
 * must never read as empty.
 */
export function usageRatio(inUse: number, poolSize: number): number {
  return poolSize > 0 ? inUse / poolSize : 1;
}
