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
  /** destination key → per source index: connects under way, live count, count at which it was full. */
  readonly #byDestination = new Map<
    string,
    { pending: number[]; live: number[]; fullAt: (number | undefined)[]; next: number }
  >();

  constructor(sources: readonly string[]) {
    if (sources.length === 0) throw new TypeError('SourceBook needs at least one source');
    this.sources = [...sources];
  }

  #entry(destination: string) {
    let e = this.#byDestination.get(destination);
    if (e === undefined) {
      e = {
        pending: this.sources.map(() => 0),
        live: this.sources.map(() => 0),
        fullAt: this.sources.map(() => undefined),
        next: 0,
      };
      this.#byDestination.set(destination, e);
    }
    return e;
  }

  #forget(destination: string): void {
    const e = this.#byDestination.get(destination);
    if (
      e &&
      e.live.every((x) => x === 0) &&
      e.pending.every((x) => x === 0) &&
      e.fullAt.every((x) => x === undefined)
    )
      this.#byDestination.delete(destination);
  }

  /**
   * The source to try next toward `destination`, among those `allowed` and not yet `tried`: the one
   * with the fewest connections (open or being opened) among those not known to be full, equal
   * counts taken in turn. Sources found full come only after every other: a port may have come free
   * since, so they are still tried before the caller gives up. Undefined when none is left. The pick
   * is counted as a connect under way until {@link opened} or {@link failed}.
   */
  pick(destination: string, tried: ReadonlySet<number>, allowed: (index: number) => boolean = () => true) {
    const e = this.#entry(destination);
    const n = this.sources.length;
    let best: number | undefined;
    let bestKey = Infinity;
    for (let k = 0; k < n; k++) {
      const i = (e.next + k) % n;
      if (tried.has(i) || !allowed(i)) continue;
      const used = (e.live[i] ?? 0) + (e.pending[i] ?? 0);
      const at = e.fullAt[i];
      const full = at !== undefined && (e.live[i] ?? 0) >= at;
      const key = (full ? n * 1e9 : 0) + used;
      if (key < bestKey) {
        best = i;
        bestKey = key;
      }
    }
    if (best === undefined) {
      this.#forget(destination);
      return undefined;
    }
    e.next = (best + 1) % n;
    e.pending[best] = (e.pending[best] ?? 0) + 1;
    return best;
  }

  /** The connect from `index` succeeded: a live connection until {@link closed}. */
  opened(index: number, destination: string): void {
    const e = this.#entry(destination);
    e.pending[index] = Math.max(0, (e.pending[index] ?? 0) - 1);
    e.live[index] = (e.live[index] ?? 0) + 1;
  }

  /** The connect from `index` failed; `outOfPorts` marks its pool full at the current live count. */
  failed(index: number, destination: string, outOfPorts: boolean): void {
    const e = this.#entry(destination);
    e.pending[index] = Math.max(0, (e.pending[index] ?? 0) - 1);
    if (outOfPorts) e.fullAt[index] = e.live[index] ?? 0;
    this.#forget(destination);
  }

  /** That connection closed: one fewer live, and a pool found full at a higher count is usable again. */
  closed(index: number, destination: string): void {
    const e = this.#entry(destination);
    e.live[index] = Math.max(0, (e.live[index] ?? 0) - 1);
    const at = e.fullAt[index];
    if (at !== undefined && (e.live[index] ?? 0) < at) e.fullAt[index] = undefined;
    this.#forget(destination);
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
