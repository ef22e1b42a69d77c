// What the http Agent and the undici connector of safebind/agent share: a destination as a client
// library hands it (a host name or an IP literal, a port as a number or a string) turned into a
// connected socket from the pool of sources, or an Error that carries the failed syscall's fields,
// as Node's own connect errors do, plus the diagnosis.
import { lookup } from 'node:dns/promises';
import type net from 'node:net';
import { parseDestination, parseHost, type ParsedHost } from '../sys/index.js';
import type { Diagnosis, SocketError } from '../types.js';
import { AbortError, type AbortLike } from './abort-error.js';
import { toSocketError } from './failure.js';
import type { SourceFailure, SourcePool } from './source-pool.js';
import { diagnoseSources } from './sources-diagnosis.js';

/**
 * A connection from the pool of sources failed: Node's fields (`code`, `errno` negative as Node
 * gives it, `syscall`, `address`, `port`), the `diagnosis` (`ephemeral-ports-exhausted` with
 * `evidence.sources`, one entry per source, when every source was full) and each source tried.
 */
export class SourceConnectError extends Error {
  /** 'SourceConnectError'. */
  override name = 'SourceConnectError';
  /** 'EADDRNOTAVAIL', 'ECONNREFUSED', … */
  readonly code: string;
  /** Negative, as Node's errors carry it: -99. */
  readonly errno: number;
  /** The failed system call: 'connect', 'bind', 'setsockopt'. */
  readonly syscall: string;
  /** The destination address. */
  readonly address?: string;
  /** The destination port. */
  readonly port?: number;
  /** Why it failed, read from the host right after. */
  readonly diagnosis: Diagnosis;
  /** Every source tried, in order, and its error. */
  readonly tried: SourceFailure[];
  constructor(error: SocketError, diagnosis: Diagnosis, tried: SourceFailure[]) {
    super(`${error.message}: ${diagnosis.summary}`);
    this.code = error.code;
    this.errno = -error.errno;
    this.syscall = error.syscall;
    if (error.address !== undefined) this.address = error.address;
    if (error.port !== undefined) this.port = error.port;
    this.diagnosis = diagnosis;
    this.tried = tried;
  }
}

/** IP literals already parsed, so a busy client does not parse the same text per connection. */
const literals = new Map<string, ParsedHost>();
const MAX_LITERALS = 1024;

/** A destination as http and undici hand it: '[::1]' or '::1', a name, an IP literal. */
async function resolve(host: string, family: 4 | 6 | undefined): Promise<ParsedHost> {
  const known = literals.get(host);
  if (known !== undefined) return known;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const destination = parseDestination(bare);
  if (!destination.ok)
    throw new TypeError(`safebind/agent: cannot connect to '${host}': ${destination.reason}`);
  if (destination.value.kind === 'address') {
    if (literals.size >= MAX_LITERALS) literals.clear();
    literals.set(host, destination.value.address);
    return destination.value.address;
  }
  const found = await lookup(destination.value.host, { family: family ?? 0 });
  const parsed = parseHost(found.address);
  if (!parsed.ok)
    throw new TypeError(`safebind/agent: ${host} resolved to ${found.address}: ${parsed.reason}`);
  return parsed.value;
}

/**
 * Connects to host:port through the pool; rejects with a {@link SourceConnectError}, or with the
 * lookup's own error for a name that does not resolve (as Node's connect reports it).
 */
export async function connectThroughPool(
  pool: SourcePool,
  host: string,
  port: number,
  how: {
    family?: 4 | 6 | undefined;
    timeout?: number | undefined;
    signal?: AbortLike | undefined;
    handOff?: 'connected' | 'issued' | undefined;
  } = {},
): Promise<net.Socket> {
  // An IP literal already parsed is not awaited: one promise less per connection.
  const remote = literals.get(host) ?? (await resolve(host, how.family ?? pool.family()));
  const problem = pool.familyProblem(remote.family);
  if (problem !== undefined) throw new TypeError(`safebind/agent: ${problem}`);
  // Aborted while the name resolved: the connect's own listener would never hear it.
  if (how.signal?.aborted) throw new AbortError(how.signal);
  const done = await pool.connect(remote, port, {
    timeout: how.timeout,
    signal: how.signal,
    handOff: how.handOff,
  });
  if (done.ok) return done.socket;
  const diagnosis = await diagnoseSources(pool, done);
  throw new SourceConnectError(done.error, diagnosis, done.tried);
}

/** Any thrown value as an Error, for the callbacks of http and undici. */
export function asError(e: unknown): Error {
  if (e instanceof Error) return e;
  const s = toSocketError(e);
  return Object.assign(new Error(s.message), { code: s.code });
}
