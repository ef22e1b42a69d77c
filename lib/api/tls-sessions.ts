// TLS session resumption for the connections safebind/agent secures itself. Node's https.Agent and
// undici's connector keep the last session per destination and offer it on the next handshake; the
// agent's https Agent and dispatcher run TLS over a socket the pool connected, past both, so they
// keep their own, the same way: at most `max` destinations (100 by default, 0 keeps none), the
// oldest dropped first. Node's Agent also drops a destination's session when a connection closes
// with an error; undici does not (it destroys every connection it resets with an error), so that
// is the caller's choice.
import tls from 'node:tls';

export class TlsSessions {
  readonly #max: number;
  readonly #byKey = new Map<string, Buffer>();

  readonly #dropOnError: boolean;

  constructor(max = 100, dropOnError = true) {
    if (!Number.isInteger(max) || max < 0)
      throw new TypeError(`maxCachedSessions must be a non-negative integer, not ${String(max)}`);
    this.#max = max;
    this.#dropOnError = dropOnError;
  }

  /** tls.connect(options), offering the session kept for `key` and keeping the one the server gives. */
  connect(key: string, options: tls.ConnectionOptions): tls.TLSSocket {
    if (this.#max === 0) return tls.connect(options);
    const session = this.#byKey.get(key);
    const secured = tls.connect(session !== undefined ? { ...options, session } : options);
    secured.on('session', (s: Buffer) => this.#keep(key, s));
    if (this.#dropOnError)
      secured.once('close', (hadError: boolean) => {
        if (hadError) this.#byKey.delete(key);
      });
    return secured;
  }

  #keep(key: string, session: Buffer): void {
    // Re-inserted, so the Map's order is the order of last use and the first key the oldest.
    this.#byKey.delete(key);
    this.#byKey.set(key, session);
    if (this.#byKey.size > this.#max) {
      const oldest = this.#byKey.keys().next();
      if (oldest.done !== true) this.#byKey.delete(oldest.value);
    }
  }
}
