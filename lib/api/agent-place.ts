// The place an asynchronous connect of safebind/agent holds in Node's http.Agent while it is in
// flight, so that maxSockets, maxTotalSockets and the Agent's queue of waiting requests work as they
// do for Node's own (synchronously returned) sockets. Node's Agent has no documented hook for this;
// it reads and writes what Node's Agent has had since 0.x and agent-base relies on too:
// `agent.sockets`, `totalSocketCount`, `requests` and `createSocket`.
import type http from 'node:http';
import type net from 'node:net';
import type { AbortLike } from './abort-error.js';

/** The options an Agent hands createConnection, with the key it files the socket under. */
export type PlaceArgs = http.ClientRequestArgs & { _agentKey?: string };

/**
 * Node's Agent counts toward maxSockets (and maxTotalSockets) only the sockets createConnection has
 * handed back, so while a pooled connect is in flight every further request would open a connection
 * of its own, past maxSockets, and none would wait for a free one. A placeholder holds the place in
 * agent.sockets[name] meanwhile, as agent-base does for its asynchronous connects: on success it
 * leaves just before the Agent adds the real socket; on failure it leaves and its place goes to the
 * first waiting request, as the close of a failed socket would. agent.destroy() destroys it, which
 * aborts the connect.
 */
export interface Place {
  /** Aborted by agent.destroy(): what the connect listens to. */
  readonly signal: AbortLike | undefined;
  /** The connect succeeded: the place is left, for the Agent to add the socket. */
  leave(): void;
  /** The connect failed (after the callback): the place goes to the next waiting request. */
  fail(): void;
}

/** The placeholder, and the abort of its connect: one listener, no AbortController per connection. */
class ConnectInFlight implements AbortLike {
  /** What a reader of agent.sockets sees: a socket that is not writable (not one to send on). */
  readonly writable = false;
  destroyed = false;
  /** Aborted is destroyed: agent.destroy() is the only abort. */
  get aborted(): boolean {
    return this.destroyed;
  }
  #listener: (() => void) | undefined;
  addEventListener(_type: 'abort', listener: () => void): void {
    this.#listener = listener;
  }
  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.#listener === listener) this.#listener = undefined;
  }
  /** agent.destroy(): aborts the connect. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }
}

type AgentCounts = http.Agent & { totalSocketCount?: number; sockets: Record<string, unknown[] | undefined> };

/** What Node's Agent has had since 0.x and agent-base relies on, undocumented: its queue and createSocket. */
type AgentInternals = http.Agent & {
  requests: Record<string, http.ClientRequest[] | undefined>;
  createSocket?: (
    req: http.ClientRequest,
    options: PlaceArgs,
    cb: (err: Error | null, socket?: net.Socket) => void,
  ) => void;
};

/**
 * A connect failed: its place goes to the first request waiting for this destination, as Node's own
 * removeSocket() does when a failed socket closes. Node's createSocket callback does not take a
 * request that fails out of the queue (its own sockets never fail there, they fail after), so this
 * one does, or the failed request would be retried for ever.
 */
function passPlace(agent: AgentInternals, name: string, args: PlaceArgs): void {
  const next = agent.requests[name]?.[0];
  if (next === undefined || typeof agent.createSocket !== 'function') return;
  agent.createSocket(next, args, (err, socket) => {
    if (err === null) {
      // Node's 'free' handler takes the first waiting request, this one, onto the socket.
      socket?.emit('free');
      return;
    }
    const queue = agent.requests[name];
    const at = queue?.indexOf(next) ?? -1;
    if (queue !== undefined && at !== -1) queue.splice(at, 1);
    if (queue?.length === 0) delete agent.requests[name];
    (next as http.ClientRequest & { onSocket(s: unknown, e: Error): void }).onSocket(socket, err);
  });
}

export function holdPlace(agent: http.Agent, args: PlaceArgs): Place {
  const name = args._agentKey;
  // Called directly rather than by the Agent: there is no place to hold.
  if (typeof name !== 'string') return { signal: undefined, leave() {}, fail() {} };
  const counts = agent as AgentCounts;
  const placeholder = new ConnectInFlight();
  (counts.sockets[name] ??= []).push(placeholder);
  if (typeof counts.totalSocketCount === 'number') counts.totalSocketCount++;
  let held = true;
  const take = () => {
    const list = counts.sockets[name];
    const at = list?.indexOf(placeholder) ?? -1;
    if (list === undefined || at === -1) return;
    list.splice(at, 1);
    if (list.length === 0) delete counts.sockets[name];
    if (typeof counts.totalSocketCount === 'number') counts.totalSocketCount--;
  };
  return {
    signal: placeholder,
    leave() {
      if (held) take();
      held = false;
    },
    fail() {
      if (!held) return;
      held = false;
      take();
      passPlace(agent as AgentInternals, name, args);
    },
  };
}
