// Outbound connections over a pool of source addresses: each new connection is made by the one
// socket recipe (socket, IP_BIND_ADDRESS_NO_PORT, bind(source, 0), optionally IP_LOCAL_PORT_RANGE),
// then connected non-blocking by Node. The source is the least-used one toward that destination
// (lib/model/source-choice.ts); a source whose pool ran out is skipped, and a connect that finds it
// out (EADDRNOTAVAIL) moves on to the next source instead of failing. Used by safebind/agent and by
// safeConnect({ sources }).
import type net from 'node:net';
import type { Attempt } from '../diagnose/input.js';
import { SourceBook } from '../model/index.js';
import { formatHost, formatTarget, openSocket, parseHost, sockAddr, type ParsedHost } from '../sys/index.js';
import type { SocketOptions } from '../sys/index.js';
import type { Family, SocketError } from '../types.js';
import type { AbortLike } from './abort-error.js';
import { connectFd } from './connect-fd.js';

/** How a pool of sources is configured. */
export interface SourcePoolOptions {
  /**
   * The source addresses to connect from. Absent or empty: no bind, the kernel picks the source the
   * route gives (already a pool per destination).
   */
  sources?: readonly string[] | undefined;
  /** IP_BIND_ADDRESS_NO_PORT before bind(source, 0): the port is chosen at connect, per 4-tuple. Default true. */
  bindAddressNoPort?: boolean | undefined;
  /**
   * IP_LOCAL_PORT_RANGE [lo, hi] on every socket (Linux 6.3+): this process takes source ports only
   * from that slice of net.ipv4.ip_local_port_range. On an older kernel every connect fails with
   * setsockopt ENOPROTOOPT.
   */
  localPortRange?: readonly [number, number] | undefined;
}

/** One source tried and how it failed. */
export interface SourceFailure {
  /** The source address ('' for the route's own source when none was given). */
  source: string;
  /** How its connect failed. */
  error: SocketError;
}

/** What {@link SourcePool.connect} resolves. */
export type SourceConnect =
  | { ok: true; socket: net.Socket; source: string }
  | {
      ok: false;
      /** The last failure: what the caller reports. */
      error: SocketError;
      /** The attempt of that failure, for the diagnosis. */
      attempt: Attempt;
      /** Every source tried, in order, with its error. */
      tried: SourceFailure[];
      /** True when every source tried ran out of source ports toward the destination. */
      exhausted: boolean;
    };

/** The source has no free port toward the destination (the pool is per source for bind-no-port). */
export function outOfPorts(e: SocketError): boolean {
  return (
    (e.syscall === 'connect' && (e.code === 'EADDRNOTAVAIL' || e.code === 'EADDRINUSE')) ||
    (e.syscall === 'bind' && e.code === 'EADDRINUSE')
  );
}

/** The next source may do where this one did not: its ports, or the source itself (not local). */
function tryNext(e: SocketError): boolean {
  return outOfPorts(e) || (e.syscall === 'bind' && e.code === 'EADDRNOTAVAIL');
}

/** Parses the options once; a reason when a source is not an IP address or the range is wrong. */
export function parseSourcePool(
  o: SourcePoolOptions,
): { ok: true; value: SourcePool } | { ok: false; reason: string } {
  const sources: ParsedHost[] = [];
  for (const text of o.sources ?? []) {
    const parsed = parseHost(text);
    if (!parsed.ok) return { ok: false, reason: `sources: ${text}: ${parsed.reason}` };
    sources.push(parsed.value);
  }
  const r = o.localPortRange;
  if (r !== undefined) {
    const [lo, hi] = r;
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 1 || hi > 65535 || lo > hi)
      return {
        ok: false,
        reason: `localPortRange must be [lo, hi] within 1-65535, lo ≤ hi; got [${String(lo)}, ${String(hi)}]`,
      };
  }
  return { ok: true, value: new SourcePool(sources, o.bindAddressNoPort ?? true, r) };
}

/** Throws a TypeError for a programmer error in the shape of the options. */
export function checkSourcePoolTypes(o: SourcePoolOptions, who: string): void {
  if (o.sources !== undefined && (!Array.isArray(o.sources) || o.sources.some((s) => typeof s !== 'string')))
    throw new TypeError(`${who}: sources must be an array of address strings`);
  if (o.bindAddressNoPort !== undefined && typeof o.bindAddressNoPort !== 'boolean')
    throw new TypeError(`${who}: bindAddressNoPort must be a boolean`);
  const r = o.localPortRange;
  if (r !== undefined && (!Array.isArray(r) || r.length !== 2 || r.some((p) => typeof p !== 'number')))
    throw new TypeError(`${who}: localPortRange must be [lo, hi]`);
}

/** The book of live connections per (source, destination) and the connect that keeps it. */
export class SourcePool {
  readonly #sources: ReadonlyArray<ParsedHost | undefined>;
  readonly #book: SourceBook;
  readonly #noPort: boolean;
  readonly #range: readonly [number, number] | undefined;

  /** The one family of all the sources, or undefined (see family()). */
  readonly #family: Family | undefined;
  /** How many sources can connect to a destination of each family. */
  readonly #candidates: Record<Family, number>;

  constructor(sources: ParsedHost[], bindAddressNoPort: boolean, localPortRange?: readonly [number, number]) {
    this.#sources = sources.length > 0 ? sources : [undefined];
    this.#book = new SourceBook(this.#sources.map((s) => (s === undefined ? '' : formatHost(s))));
    this.#noPort = bindAddressNoPort;
    this.#range = localPortRange;
    const families = new Set(this.#sources.map((s) => s?.family));
    this.#family = families.size === 1 ? ([...families][0] ?? undefined) : undefined;
    const of = (f: Family) => this.#sources.filter((s) => s === undefined || s.family === f).length;
    this.#candidates = { 4: of(4), 6: of(6) };
  }

  /** The pools of one source each, for requests that name their own (an Agent's `localAddress`). */
  readonly #alone = new Map<string, SourcePool>();

  /**
   * The pool of the one source `text`, with this pool's options (IP_BIND_ADDRESS_NO_PORT, port
   * range), kept so its count of live connections lasts; a reason when `text` is not an IP address.
   */
  only(text: string): { ok: true; value: SourcePool } | { ok: false; reason: string } {
    const known = this.#alone.get(text);
    if (known !== undefined) return { ok: true, value: known };
    const parsed = parseHost(text);
    if (!parsed.ok) return { ok: false, reason: `localAddress ${text}: ${parsed.reason}` };
    const pool = new SourcePool([parsed.value], this.#noPort, this.#range);
    if (this.#alone.size >= 256) this.#alone.clear();
    this.#alone.set(text, pool);
    return { ok: true, value: pool };
  }

  /** The source addresses, as given ('' for the route's own when none was). */
  get sources(): readonly string[] {
    return this.#book.sources;
  }

  /** The one family of the sources, when they are all of one (for a name's lookup); else undefined. */
  family(): Family | undefined {
    return this.#family;
  }

  /** The sources of a family, or undefined when there is none of it (for a clear error). */
  familyProblem(family: Family): string | undefined {
    if (this.#candidates[family] > 0) return undefined;
    return `no source address of IPv${family} for an IPv${family} destination (sources: ${this.sources.join(', ')})`;
  }

  /** Live connections and pools found full, per source, toward one destination. */
  tallyOf(host: string, port: number) {
    return this.#book.tally(formatTarget(host, port));
  }

  /** The attempt as the diagnosis takes it. */
  #attempt(remote: ParsedHost, port: number, source: ParsedHost | undefined, error: SocketError): Attempt {
    const attempt: Attempt = {
      operation: 'connect',
      protocol: 'tcp',
      error,
      remote: { host: formatHost(remote), port, family: remote.family, ip: remote.ip },
      options: source !== undefined && this.#noPort ? { bindAddressNoPort: true } : {},
    };
    if (source !== undefined)
      attempt.local = { host: formatHost(source), port: 0, family: source.family, ip: source.ip };
    return attempt;
  }

  #open(remote: ParsedHost, source: ParsedHost | undefined) {
    const options: SocketOptions = {};
    if (source !== undefined && this.#noPort) options.bindAddressNoPort = true;
    if (this.#range !== undefined) options.localPortRange = this.#range;
    return openSocket({
      family: remote.family,
      protocol: 'tcp',
      options,
      ...(source !== undefined ? { bind: sockAddr(source, 0) } : {}),
    });
  }

  /**
   * Connects to remote:port from the least-used source of its family, moving on to the next source
   * when one has no free port (or is not local). Rejects only with an AbortError.
   */
  async connect(
    remote: ParsedHost,
    port: number,
    how: {
      timeout?: number | undefined;
      signal?: AbortLike | undefined;
      /** When the socket is handed back (connectFd's `handOff`): a connecting one counts as live. */
      handOff?: 'connected' | 'issued' | undefined;
    } = {},
  ): Promise<SourceConnect> {
    const destination = formatTarget(formatHost(remote), port);
    const ofFamily = (i: number) => {
      const s = this.#sources[i];
      return s === undefined || s.family === remote.family;
    };
    const candidates = this.#candidates[remote.family];
    const tried: SourceFailure[] = [];
    const triedIndex = new Set<number>();
    let last: { error: SocketError; attempt: Attempt } | undefined;
    for (
      let i = this.#book.pick(destination, triedIndex, ofFamily);
      i !== undefined;
      i = this.#book.pick(destination, triedIndex, ofFamily)
    ) {
      triedIndex.add(i);
      const source = this.#sources[i];
      const label = this.#book.sources[i] ?? '';
      const opened = this.#open(remote, source);
      let result: Awaited<ReturnType<typeof connectFd>>;
      try {
        result = opened.ok
          ? await connectFd(opened.value, {
              host: formatHost(remote),
              port,
              timeout: how.timeout,
              signal: how.signal,
              ...(how.handOff !== undefined ? { handOff: how.handOff } : {}),
            })
          : opened;
      } catch (e) {
        this.#book.failed(i, destination, false);
        throw e;
      }
      if (result.ok) {
        const socket = result.value;
        const index = i;
        this.#book.opened(index, destination);
        socket.once('close', () => this.#book.closed(index, destination));
        return { ok: true, socket, source: label };
      }
      const error = result.error;
      tried.push({ source: label, error });
      last = { error, attempt: this.#attempt(remote, port, source, error) };
      this.#book.failed(i, destination, outOfPorts(error));
      if (!tryNext(error)) break;
    }
    if (last === undefined) throw new TypeError(this.familyProblem(remote.family) ?? 'no source to try');
    return {
      ok: false,
      error: last.error,
      attempt: last.attempt,
      tried,
      exhausted: tried.length === candidates && tried.every((t) => outOfPorts(t.error)),
    };
  }
}
