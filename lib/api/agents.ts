// createAgent / createHttpsAgent / createDispatcher: Node's http and https Agents and an undici Agent
// whose new connections come from a pool of source addresses bound with IP_BIND_ADDRESS_NO_PORT
// (lib/api/source-pool.ts). Only the documented hooks are replaced — the Agent's createConnection,
// undici's `connect` — so keepAlive, maxSockets, connections, pipelining… work as they always do.
// undici is an optional peer dependency, loaded only when createDispatcher is called.
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import type net from 'node:net';
import type stream from 'node:stream';
import process from 'node:process';
import tls from 'node:tls';
import type { Agent as UndiciAgent, Dispatcher } from 'undici';
import { holdPlace, type PlaceArgs } from './agent-place.js';
import { TlsSessions } from './tls-sessions.js';
import { asError, connectThroughPool } from './pool-connect.js';
import {
  checkSourcePoolTypes,
  parseSourcePool,
  type SourcePool,
  type SourcePoolOptions,
} from './source-pool.js';

/** The pool options every safebind/agent constructor takes, beside its own. */
export type SourceOptions = SourcePoolOptions;

/** Options of {@link createAgent}: those of `http.Agent` and the pool of sources. */
export interface AgentOptions extends http.AgentOptions, SourceOptions {}
/** Options of {@link createHttpsAgent}: those of `https.Agent` and the pool of sources. */
export interface HttpsAgentOptions extends https.AgentOptions, SourceOptions {}
/**
 * Options of {@link createDispatcher}: those of undici's `Agent` and the pool of sources. `connect`
 * may hold TLS options (ca, rejectUnauthorized, servername…) and `timeout`, as undici's own.
 */
export type DispatcherOptions = Omit<UndiciAgent.Options, 'connect'> &
  SourceOptions & {
    /** TLS options for https origins (ca, rejectUnauthorized, servername…) and the connect timeout. */
    connect?: tls.ConnectionOptions & {
      /** Milliseconds to wait for a connection to be established; default 10,000, as undici. */
      timeout?: number | null;
      /** TLS sessions kept for resumption, one per destination; default 100, 0 keeps none, as undici. */
      maxCachedSessions?: number;
    };
  };

function poolFrom(o: SourceOptions, who: string): SourcePool {
  if (typeof o !== 'object' || o === null) throw new TypeError(`${who} takes an options object`);
  checkSourcePoolTypes(o, who);
  const parsed = parseSourcePool(o);
  // Options are code, not runtime input: an unusable address there is a programmer error.
  if (!parsed.ok) throw new TypeError(`${who}: ${parsed.reason}`);
  return parsed.value;
}

type Callback = (err: Error | null, stream: stream.Duplex) => void;
type ConnectArgs = http.ClientRequestArgs & { servername?: string };

function portOf(args: ConnectArgs, fallback: number): number {
  const p = args.port === undefined || args.port === null || args.port === '' ? fallback : Number(args.port);
  return p;
}

function familyOf(args: ConnectArgs): 4 | 6 | undefined {
  return args.family === 4 || args.family === 6 ? args.family : undefined;
}

const agentPools = new WeakMap<http.Agent, SourcePool>();

/**
 * What net.createConnection(options) does with the socket options the Agent hands it (the Agent sets
 * noDelay: true by default; keepAlive and timeout come from its options): the pool's socket gets the
 * same, or requests would run with Nagle on.
 */
function likeNetConnect<S extends net.Socket>(
  socket: S,
  args: ConnectArgs & { noDelay?: boolean; keepAlive?: boolean; keepAliveInitialDelay?: number },
): S {
  if (args.noDelay !== false) socket.setNoDelay(true);
  if (args.keepAlive === true) socket.setKeepAlive(true, args.keepAliveInitialDelay ?? 0);
  if (typeof args.timeout === 'number' && args.timeout > 0) socket.setTimeout(args.timeout);
  return socket;
}

/**
 * What both Agents' createConnection do: the connect through the pool, its place held meanwhile,
 * and the socket (as `wrap` makes it: itself for http, TLS over it for https) or the error to the
 * Agent's callback.
 */
function connectForAgent(
  agent: http.Agent,
  args: ConnectArgs,
  callback: Callback | undefined,
  defaultPort: number,
  wrap: (socket: net.Socket) => stream.Duplex,
): undefined {
  const agentPool = agentPools.get(agent);
  if (agentPool === undefined || callback === undefined) throw new TypeError('safebind/agent: no pool');
  // A request that names its localAddress leaves from that address alone, with the pool's options.
  let pool = agentPool;
  if (typeof args.localAddress === 'string' && args.localAddress !== '') {
    const alone = agentPool.only(args.localAddress);
    if (!alone.ok) {
      const error = new TypeError(`safebind/agent: ${alone.reason}`);
      process.nextTick(() => callback(error, undefined as unknown as stream.Duplex));
      return undefined;
    }
    pool = alone.value;
  }
  const place = holdPlace(agent, args);
  // Handed to the Agent while still connecting, as net.createConnection's socket is: the request's
  // timeout, destroy() and signal act on the connect itself. Only the connect(2) call's own failures
  // (a source out of ports: EADDRNOTAVAIL) are the pool's to retry on the next source.
  connectThroughPool(pool, args.host ?? args.hostname ?? 'localhost', portOf(args, defaultPort), {
    family: familyOf(args),
    signal: place.signal,
    handOff: 'issued',
  }).then(
    (socket) => {
      place.leave();
      callback(null, wrap(likeNetConnect(socket, args)));
    },
    (e: unknown) => {
      // The failed request leaves the Agent's queue in the callback; only then is the place passed on.
      try {
        callback(asError(e), undefined as unknown as stream.Duplex);
      } finally {
        place.fail();
      }
    },
  );
  return undefined;
}

/** An `http.Agent` whose connections leave from the pool of sources. */
class SourceAgent extends http.Agent {
  constructor(pool: SourcePool, options: http.AgentOptions) {
    super(options);
    agentPools.set(this, pool);
  }
  override createConnection(args: ConnectArgs, callback?: Callback): undefined {
    return connectForAgent(this, args, callback, 80, (socket) => socket);
  }
}

/**
 * An `https.Agent` whose connections leave from the pool of sources, TLS over the connected socket,
 * resuming sessions per destination as https.Agent does (`maxCachedSessions`, default 100).
 */
class SourceHttpsAgent extends https.Agent {
  readonly #sessions: TlsSessions;
  constructor(pool: SourcePool, options: https.AgentOptions) {
    super(options);
    agentPools.set(this, pool);
    this.#sessions = new TlsSessions(options.maxCachedSessions ?? 100);
  }
  override createConnection(args: ConnectArgs, callback?: Callback): undefined {
    return connectForAgent(this, args, callback, 443, (socket) => {
      // host stays: TLS checks the certificate against it; port and path mean nothing over a socket.
      const { port: _port, path: _path, ...rest } = args as tls.ConnectionOptions & ConnectArgs;
      const key = (args as PlaceArgs)._agentKey ?? `${args.host ?? ''}:${portOf(args, 443)}`;
      return this.#sessions.connect(key, { ...(rest as tls.ConnectionOptions), socket });
    });
  }
}

/**
 * An `http.Agent` whose new connections leave from `sources` (least used toward the destination
 * first, a full one skipped, EADDRNOTAVAIL retried on the next), bound with IP_BIND_ADDRESS_NO_PORT
 * unless `bindAddressNoPort: false`. Every http.Agent option still applies. When every source is
 * full, the request fails with a {@link SourceConnectError} whose diagnosis is
 * `ephemeral-ports-exhausted` with each source's figures. A request's own `localAddress` is used
 * alone for its connection, with the same options. Throws a TypeError for a source that is not an
 * IP address.
 *
 * @example
 * const agent = createAgent({ sources: ['10.0.0.11', '10.0.0.12'], keepAlive: true });
 * http.get('http://10.0.0.7:8080/', { agent });
 */
export function createAgent(options: AgentOptions = {}): http.Agent {
  const pool = poolFrom(options, 'createAgent()');
  const { sources: _s, bindAddressNoPort: _b, localPortRange: _r, ...agentOptions } = options;
  return new SourceAgent(pool, agentOptions);
}

/**
 * As {@link createAgent}, for https: TLS runs over the socket the pool connected, and a destination's
 * session is offered again on its next connection (`maxCachedSessions`, default 100), as
 * https.Agent does.
 */
export function createHttpsAgent(options: HttpsAgentOptions = {}): https.Agent {
  const pool = poolFrom(options, 'createHttpsAgent()');
  const { sources: _s, bindAddressNoPort: _b, localPortRange: _r, ...agentOptions } = options;
  return new SourceHttpsAgent(pool, agentOptions);
}

type UndiciModule = typeof import('undici');

function loadUndici(): UndiciModule {
  try {
    return createRequire(import.meta.url)('undici') as UndiciModule;
  } catch (e) {
    throw new Error(
      'createDispatcher() needs undici, an optional peer dependency of safebind: npm install undici',
      { cause: e },
    );
  }
}

/**
 * An undici `Agent` (a Dispatcher for `fetch(url, { dispatcher })`, `request`, `setGlobalDispatcher`)
 * whose connections leave from the pool of sources, as {@link createAgent}. Every undici Agent
 * option (connections, keepAliveTimeout, pipelining…) still applies. undici is loaded on this call;
 * without it installed, this throws an Error that says so.
 */
export function createDispatcher(options: DispatcherOptions = {}): Dispatcher {
  const pool = poolFrom(options, 'createDispatcher()');
  const {
    sources: _s,
    bindAddressNoPort: _b,
    localPortRange: _r,
    connect: tlsOptions,
    ...agentOptions
  } = options;
  const { timeout, maxCachedSessions, ...tlsRest } = tlsOptions ?? {};
  const sessions = new TlsSessions(maxCachedSessions ?? 100, false);
  const { Agent } = loadUndici();
  const connector = (
    o: { hostname: string; host?: string; protocol: string; port: string; servername?: string },
    callback: (...args: [null, net.Socket | tls.TLSSocket] | [Error, null]) => void,
  ): void => {
    const secure = o.protocol === 'https:';
    const port = o.port === '' ? (secure ? 443 : 80) : Number(o.port);
    connectThroughPool(pool, o.hostname, port, { timeout: timeout ?? 10_000 }).then(
      (socket) => {
        socket.setNoDelay(true);
        if (!secure) return callback(null, socket);
        // The origin's host without the brackets of an IPv6 literal.
        const host = o.hostname.replace(/^\[|\]$/g, '');
        const servername = o.servername ?? tlsRest.servername ?? sniName(host);
        const secured = sessions.connect(`${servername ?? ''}/${o.hostname}:${port}`, {
          ALPNProtocols: ['http/1.1'],
          // What the certificate is checked against when there is no server name (an IP literal):
          // without it tls.connect checks against 'localhost'.
          host,
          ...tlsRest,
          ...(servername !== undefined ? { servername } : {}),
          socket,
        });
        const onError = (e: Error) => callback(e, null);
        secured.once('error', onError).once('secureConnect', () => {
          secured.off('error', onError);
          callback(null, secured);
        });
      },
      (e: unknown) => callback(asError(e), null),
    );
  };
  return new Agent({ ...agentOptions, connect: connector });
}

/** The server name for SNI: a host name, never an IP literal (RFC 6066). */
function sniName(host: string): string | undefined {
  return /^[\d.]+$/.test(host) || host.includes(':') ? undefined : host;
}
