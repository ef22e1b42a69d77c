// The text before the value of the exporter's per-destination samples, kept between scrapes. An
// exporter asked for thousands of destinations writes three samples for each at every scrape, and
// their label pairs (the namespace's, then the destination) stay the same from one scrape to the
// next: each `name{pairs} ` is written, escaped and encoded once, and forgotten after a scrape that did not
// use it (a destination gone from the top N, a namespace gone from the host).
import { renderLabels, sampleHead } from './exposition.js';

/** The names of the three per-destination gauges, in the order {@link SampleHeads.of} returns. */
export const POOL_GAUGES = [
  'safebind_port_pool_in_use',
  'safebind_port_pool_usage_ratio',
  'safebind_port_pool_exhaustion_seconds',
] as const;

/** The heads of the three pool gauges of one namespace and destination, in POOL_GAUGES order. */
export type PoolHeads = readonly [inUse: Uint8Array, usage: Uint8Array, exhaustion: Uint8Array];

interface Entry {
  heads: PoolHeads;
  /** The last scrape that used it. */
  scrape: number;
}

export class SampleHeads {
  /** By the namespace's label pairs, then by destination label. */
  readonly #byPrefix = new Map<string, Map<string, Entry>>();
  #scrape = 0;

  /** The heads for `destination` in the namespace whose label pairs are `prefix`. */
  of(prefix: string, destination: string): PoolHeads {
    let byDestination = this.#byPrefix.get(prefix);
    if (byDestination === undefined) {
      byDestination = new Map();
      this.#byPrefix.set(prefix, byDestination);
    }
    const known = byDestination.get(destination);
    if (known !== undefined) {
      known.scrape = this.#scrape;
      return known.heads;
    }
    const pairs = `${prefix},${renderLabels({ destination })}`;
    const heads = [
      sampleHead(POOL_GAUGES[0], pairs),
      sampleHead(POOL_GAUGES[1], pairs),
      sampleHead(POOL_GAUGES[2], pairs),
    ] as const;
    byDestination.set(destination, { heads, scrape: this.#scrape });
    return heads;
  }

  /** Ends a scrape: what it did not use is dropped. */
  sweep(): void {
    for (const [prefix, byDestination] of this.#byPrefix) {
      for (const [destination, entry] of byDestination)
        if (entry.scrape !== this.#scrape) byDestination.delete(destination);
      if (byDestination.size === 0) this.#byPrefix.delete(prefix);
    }
    this.#scrape++;
  }

  /** How many heads are kept (for tests). */
  get size(): number {
    let n = 0;
    for (const byDestination of this.#byPrefix.values()) n += byDestination.size;
    return n;
  }
}
