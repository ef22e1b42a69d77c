// Once per (cause, target) per window: the first failure is reported, the ones that follow inside
// the window are counted, and the next report after it carries that count. A failure the limiter has
// already seen (same code, syscall, address, port, name) inside its window is counted without being
// diagnosed again, so a client retrying a refused connect a thousand times a second costs a lookup
// in a Map per failure, not a host snapshot.

/** The default window: one report per (cause, target) per minute. */
export const DEFAULT_WINDOW_MS = 60_000;

/** Past this many keys, entries whose window has ended are dropped. */
const PRUNE_AT = 1024;

interface Report {
  /** When the last report was made. */
  at: number;
  /** Failures counted since then. */
  repeats: number;
}

export class RateLimiter {
  /** A failure's raw key → the (cause, target) key it was diagnosed as. */
  readonly #known = new Map<string, string>();
  /** (cause, target) key → its last report. */
  readonly #reports = new Map<string, Report>();

  constructor(readonly windowMs: number = DEFAULT_WINDOW_MS) {}

  /**
   * Whether a failure with `rawKey` repeats one reported inside the current window; if so it is
   * counted and needs no diagnosis.
   */
  repeatOf(rawKey: string, now: number): boolean {
    const key = this.#known.get(rawKey);
    const report = key === undefined ? undefined : this.#reports.get(key);
    if (report === undefined || now - report.at >= this.windowMs) return false;
    report.repeats++;
    return true;
  }

  /**
   * A diagnosed failure: the count of repeats to print with it when it is to be reported, undefined
   * when it falls inside the window of an earlier report (it is counted there).
   */
  admit(rawKey: string, key: string, now: number): number | undefined {
    this.#known.set(rawKey, key);
    const report = this.#reports.get(key);
    if (report !== undefined && now - report.at < this.windowMs) {
      report.repeats++;
      return undefined;
    }
    if (this.#reports.size >= PRUNE_AT) this.#prune(now);
    this.#reports.set(key, { at: now, repeats: 0 });
    return report?.repeats ?? 0;
  }

  /** Drops the reports whose window ended with nothing counted, and the raw keys that led to them. */
  #prune(now: number): void {
    for (const [key, report] of this.#reports) {
      if (now - report.at >= this.windowMs && report.repeats === 0) this.#reports.delete(key);
    }
    for (const [raw, key] of this.#known) if (!this.#reports.has(key)) this.#known.delete(raw);
  }
}
