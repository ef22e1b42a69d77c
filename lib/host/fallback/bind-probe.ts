// A real bind without the addon: Node's own sockets (net.Server#listen for TCP, dgram bind for UDP),
// closed again at once. Node sets only some socket options; a probe that asks for one Node cannot
// set fails as `unsupported-platform` saying the option needs the addon, never bound without it.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { constants as osConstants } from 'node:os';
import { socketError, unsupportedError } from '../../sys/errors.js';
import type { SocketOptions } from '../../sys/options.js';
import type { Family, Protocol, Result } from '../../types.js';

/** What a probe binds: the address as parsed at the edge, the port, and the options asked for. */
export interface BindProbe {
  address: string;
  family: Family;
  port: number;
  protocol: Protocol;
  /** The interface of a scoped IPv6 address; its index when no name is known. */
  interface?: string;
  scopeId?: number;
  options?: SocketOptions;
}

/**
 * The options of `options` Node's sockets cannot set as asked: freebind, device, reusePort,
 * transparent, bindAddressNoPort, linger…, and reuseAddress off for TCP (libuv always sets it).
 */
export function addonOnlyOptions(options: SocketOptions, protocol: Protocol): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (name === 'ipv6Only') continue;
    if (name === 'reuseAddress' && (protocol === 'udp' || value === true)) continue;
    if (value === false && name !== 'reuseAddress') continue;
    out.push(name);
  }
  return out;
}

function errnoOf(e: unknown): number {
  const errno = (e as NodeJS.ErrnoException).errno;
  return typeof errno === 'number' && errno !== 0 ? errno : -osConstants.errno.EINVAL;
}

/**
 * Binds `probe` with a Node socket and closes it: the port bound, or the bind's failure as the
 * addon would report it (`bind EADDRNOTAVAIL 10.0.0.50:8080`). Node reports libuv's deferred bind
 * errors from listen(); they are the bind's, and named so. A TCP probe also listens (Node binds
 * and listens in one call), and stays open until the next turn of the event loop.
 */
export function bindWithNode(probe: BindProbe, reason: string): Promise<Result<{ port: number }>> {
  const asked = addonOnlyOptions(probe.options ?? {}, probe.protocol);
  if (asked.length > 0) {
    const error = unsupportedError(
      `${asked.join(', ')} ${asked.length === 1 ? 'needs' : 'need'} the native addon, which is not loaded (${reason})`,
    );
    return Promise.resolve({ ok: false, error });
  }
  const zone = probe.interface ?? (probe.scopeId !== undefined ? String(probe.scopeId) : undefined);
  const host = zone !== undefined ? `${probe.address}%${zone}` : probe.address;
  const target = { address: probe.address, port: probe.port };
  const ipv6Only = probe.family === 6 ? probe.options?.ipv6Only : undefined;
  return new Promise((resolve) => {
    const fail = (e: unknown) => resolve({ ok: false, error: socketError('bind', errnoOf(e), target) });
    if (probe.protocol === 'tcp') {
      const server = createServer();
      server.on('error', fail);
      server.listen(
        { host, port: probe.port, exclusive: true, ...(ipv6Only !== undefined ? { ipv6Only } : {}) },
        () => {
          const bound = server.address();
          server.close();
          resolve({
            ok: true,
            value: { port: typeof bound === 'object' && bound ? bound.port : probe.port },
          });
        },
      );
      return;
    }
    const socket = createSocket({
      type: probe.family === 6 ? 'udp6' : 'udp4',
      reuseAddr: probe.options?.reuseAddress === true,
      ...(ipv6Only !== undefined ? { ipv6Only } : {}),
    });
    let failed = false;
    socket.on('error', (e) => {
      if (failed) return;
      failed = true;
      socket.close();
      fail(e);
    });
    socket.bind({ address: host, port: probe.port, exclusive: true }, () => {
      const port = socket.address().port;
      socket.close();
      resolve({ ok: true, value: { port } });
    });
  });
}
