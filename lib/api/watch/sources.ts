// Where watchErrors sees failures: the platform's own hooks, nothing patched. Each is an observer the
// runtime calls beside the application's own handlers, so the error object, the order of events and
// what is uncaught stay exactly as they were (docs/kernel-facts.md lists what each Node line covers):
//
// - diagnostics_channel `net.client.socket` (every net.connect: net, http, undici and fetch; tls too
//   from Node 22) and `udp.socket` (every dgram socket): an `EventEmitter.errorMonitor` listener on
//   the socket. errorMonitor is called before the 'error' listeners and does not count as one, so an
//   error nobody handles still throws.
// - `tracing:net.server.listen:error`: a listen that failed (net, http, fastify, express…).
// - `undici:client:connectError` (undici and fetch, TLS included) and `http.client.request.error`
//   (https on Node 20, where tls.connect publishes no socket).
// - process 'uncaughtExceptionMonitor' and 'exit': the last moment of a process that dies of the
//   error, or exits in its handler; both observe only.
//
// Accepted sockets (`net.server.socket`) are not watched: they never bind or connect, so none of
// the codes safebind explains can come from them, and a listener per accepted connection would be a
// cost for nothing.
import dc from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import process from 'node:process';

export interface Sink {
  /** A failure seen in passing: explain it off the hot path. */
  observe(err: unknown): void;
  /** The process is dying of `err` or exiting: explain what is pending now, synchronously. */
  atDeath(err: unknown): void;
}

interface WithError {
  error?: unknown;
}
interface WithSocket {
  socket?: unknown;
}

/** Starts observing; returns the function that stops. Call once per process (the hub does). */
export function observeFailures(sink: Sink): () => void {
  // One listener function for every socket, so watching costs no closure per connection.
  const onSocketError = (err: unknown): void => sink.observe(err);
  const onSocket = (message: unknown): void => {
    const socket = (message as WithSocket | undefined)?.socket;
    if (socket instanceof EventEmitter) socket.on(EventEmitter.errorMonitor, onSocketError);
  };
  const onError = (message: unknown): void => sink.observe((message as WithError | undefined)?.error);
  const onUncaught = (err: unknown): void => sink.atDeath(err);
  const onExit = (): void => sink.atDeath(undefined);

  const channels: Array<[string, (message: unknown) => void]> = [
    ['net.client.socket', onSocket],
    ['udp.socket', onSocket],
    ['tracing:net.server.listen:error', onError],
    ['undici:client:connectError', onError],
    ['http.client.request.error', onError],
  ];
  for (const [name, fn] of channels) dc.subscribe(name, fn);
  process.on('uncaughtExceptionMonitor', onUncaught);
  process.on('exit', onExit);
  return () => {
    for (const [name, fn] of channels) dc.unsubscribe(name, fn);
    process.off('uncaughtExceptionMonitor', onUncaught);
    process.off('exit', onExit);
  };
}
