// portUsage(): how full the source-port pool toward one destination is, for callers that want the
// figure before they fail (load generators, health checks, the Prometheus collector).
import { lookup } from 'node:dns/promises';
import { readPortUsage, type PortUsageQuery } from '../host/index.js';
import { isUnsupported, parseDestination, parseDestinationPort, parseHost } from '../sys/index.js';
import type { PortUsage, Protocol } from '../types.js';

/** The destination whose source-port pool {@link portUsage} counts. */
export interface PortUsageOptions {
  /** The destination: an IP address, or a host name (resolved with the system resolver). */
  host: string;
  /** The destination port, 1-65535; each port of a host has a pool of its own. */
  port: number;
  /** The source address the connections bind, when they bind one. */
  localAddress?: string;
  /** 'tcp' (default) or 'udp': each transport has a pool of its own. */
  protocol?: Protocol;
}

/** A failure of portUsage() that is the caller's input or the platform, never a crash. */
export class PortUsageError extends Error {
  /** 'PortUsageError', to tell it from other errors without instanceof. */
  override name = 'PortUsageError';
  constructor(
    message: string,
    /** 'invalid-address' for unusable input, 'unsupported-platform' off Linux, else the errno code. */
    readonly code: string,
  ) {
    super(message);
  }
}

/**
 * Counts the sockets toward `host:port` (in every state but LISTEN, TIME_WAIT included) against the
 * source-port pool: `ip_local_port_range` less the `ip_local_reserved_ports` inside it. The pool is
 * per (source IP, destination IP, destination port): another port of the same host has a pool of
 * its own. Counting is done in the kernel (sock_diag); no object is made per socket.
 *
 * Rejects with a {@link PortUsageError} whose `code` is `invalid-address` for an unusable host or
 * port, `unsupported-platform` off Linux; throws a TypeError for arguments of the wrong type.
 */
export async function portUsage(options: PortUsageOptions): Promise<PortUsage> {
  const usage = readPortUsage(await resolvePortUsageOptions(options, 'portUsage'));
  if (!usage.ok) {
    throw new PortUsageError(
      usage.error.message,
      isUnsupported(usage.error) ? 'unsupported-platform' : usage.error.code,
    );
  }
  return usage.value;
}

/**
 * Checks and parses portUsage()'s options (forecast() takes the same): a TypeError for arguments of
 * the wrong type, a PortUsageError `invalid-address` for unusable values; a host name is resolved.
 */
export async function resolvePortUsageOptions(
  options: PortUsageOptions,
  fn: string,
): Promise<PortUsageQuery> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${fn}() takes { host, port }`);
  if (typeof options.host !== 'string') throw new TypeError(`${fn}(): host must be a string`);
  if (typeof options.port !== 'number' && typeof options.port !== 'string') {
    throw new TypeError(`${fn}(): port must be a number`);
  }
  if (options.localAddress !== undefined && typeof options.localAddress !== 'string') {
    throw new TypeError(`${fn}(): localAddress must be a string`);
  }
  if (options.protocol !== undefined && options.protocol !== 'tcp' && options.protocol !== 'udp') {
    throw new TypeError(`${fn}(): protocol must be 'tcp' or 'udp', got ${String(options.protocol)}`);
  }
  // The same checks, and the same sentences, as safeConnect's destination.
  const port = parseDestinationPort(options.port);
  if (!port.ok) throw new PortUsageError(port.reason, 'invalid-address');
  const destination = parseDestination(options.host);
  if (!destination.ok) throw new PortUsageError(destination.reason, 'invalid-address');
  let host: string;
  if (destination.value.kind === 'address') {
    host = destination.value.address.address;
  } else {
    try {
      host = (await lookup(destination.value.host)).address;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'ENOTFOUND';
      throw new PortUsageError(`${destination.value.host} did not resolve (${code})`, 'invalid-address');
    }
  }
  let localAddress: string | undefined;
  if (options.localAddress !== undefined) {
    const local = parseHost(options.localAddress);
    if (!local.ok) throw new PortUsageError(`localAddress: ${local.reason}`, 'invalid-address');
    localAddress = local.value.address;
  }
  return {
    host,
    port: port.value,
    protocol: options.protocol ?? 'tcp',
    ...(localAddress !== undefined ? { localAddress } : {}),
  };
}
