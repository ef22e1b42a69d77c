// Which source address the next connection toward a destination leaves from. The source-port pool is
// per (source IP, destination IP, destination port) when the port is chosen at connect
// (IP_BIND_ADDRESS_NO_PORT), so N sources give N pools toward each destination. The book counts the
// live connections made per (source, destination) and remembers which pools were found full, so the
// least-used usable source is tried first and a full one is skipped. Pure: no I/O, no clock.

/** What the book knows of one source toward one destination. */
export interface SourceTally {
  source: string;
  /** Connections made from this source toward the destination and not closed yet. */
  live: number;
  /** The live count at which a connect from this source ran out of ports; unset while none did. */
  fullAt?: number;
}

/** The book of live connections per (source, destination), and the pools found full. */
export class SourceBook {
  readonly sources: readonly string[];
  /** destination key → per source index: live count and the count at which it was found full. */
  readonly #byDestination = new Map<string, { live: number[]; fullAt: (number | undefined)[] }>();
  /** Where the scan for equal counts starts, per destination: ties go round, not always to the first. */
  readonly #next = new Map<string, number>();

  constructor(sources: readonly string[]) {
    if (sources.length === 0) throw new TypeError('SourceBook needs at least one source');
    this.sources = [...sources];
  }

  #entry(destination: string) {
    let e = this.#byDestination.get(destination);
    if (e === undefined) {
      e = {
        live: this.sources.map(() => 0),
        fullAt: this.sources.map(() => undefined),
      };
      this.#byDestination.set(destination, e);
    }
    return e;
  }

  /**
   * The sources to try toward `destination`, in order: those not known to be full, fewest live
   * connections first (ties in turn). Sources found full come last: a port may have come free since,
   * so they are still tried before the caller gives up, but only after every other.
   */
  order(destination: string): number[] {
    const e = this.#entry(destination);
    const n = this.sources.length;
    const start = (this.#next.get(destination) ?? 0) % n;
    this.#next.set(destination, start + 1);
    const rotated = Array.from({ length: n }, (_, i) => (start + i) % n);
    const full = (i: number) => {
      const at = e.fullAt[i];
      return at !== undefined && (e.live[i] ?? 0) >= at;
    };
    // Stable sort: equal counts keep the rotated order.
    const usable = rotated.filter((i) => !full(i)).sort((a, b) => (e.live[a] ?? 0) - (e.live[b] ?? 0));
    return [...usable, ...rotated.filter(full)];
  }

  /** A connection from source `index` toward `destination` is established. */
  opened(index: number, destination: string): void {
    const e = this.#entry(destination);
    e.live[index] = (e.live[index] ?? 0) + 1;
  }

  /** That connection closed: one fewer live, and a pool found full at a higher count is usable again. */
  closed(index: number, destination: string): void {
    const e = this.#entry(destination);
    e.live[index] = Math.max(0, (e.live[index] ?? 0) - 1);
    const at = e.fullAt[index];
    if (at !== undefined && (e.live[index] ?? 0) < at) e.fullAt[index] = undefined;
    if (e.live.every((x) => x === 0) && e.fullAt.every((x) => x === undefined))
      this.#byDestination.delete(destination);
  }

  /** A connect from source `index` toward `destination` ran out of ports at the current live count. */
  full(index: number, destination: string): void {
    const e = this.#entry(destination);
    e.fullAt[index] = e.live[index] ?? 0;
  }

  /** The book toward one destination, per source, in the order sources were given. */
  tally(destination: string): SourceTally[] {
    const e = this.#byDestination.get(destination);
    return this.sources.map((source, i) => {
      const t: SourceTally = { source, live: e?.live[i] ?? 0 };
      const at = e?.fullAt[i];
      if (at !== undefined) t.fullAt = at;
      return t;
    });
  }
}

/**
 * Slice `index` of `count` equal slices of `range` (the last takes the remainder), for
 * IP_LOCAL_PORT_RANGE per process so cluster workers pick ports from disjoint slices. Undefined when
 * the range has fewer ports than slices or the index is out of bounds.
 */
export function portRangeSlice(
  range: readonly [number, number],
  index: number,
  count: number,
): [number, number] | undefined {
  const size = range[1] - range[0] + 1;
  if (!Number.isInteger(index) || !Number.isInteger(count) || count < 1 || index < 0 || index >= count)
    return undefined;
  if (size < count) return undefined;
  const each = Math.floor(size / count);
  const lo = range[0] + index * each;
  const hi = index === count - 1 ? range[1] : lo + each - 1;
  return [lo, hi];
}
