// The route toward a destination without rtnetlink: a UDP socket connected to it (no datagram is
// sent) makes the kernel look the route up — policy rules, tables and local routes included — and
// fail with ENETUNREACH (no route), EHOSTUNREACH, EACCES (prohibit) or EINVAL (blackhole) as
// connect(2) does; its local address is the source the kernel chose. Which interface and gateway
// the route uses are not told: they are left out, and the reader says they were not read.
import { createSocket, type Socket } from 'node:dgram';
import { constants as osConstants } from 'node:os';
import { isLoopback, parseIp } from '../../model/index.js';
import { failedRoute } from '../route.js';
import { bareAddress } from '../socket-query.js';
import type { RouteLookup } from '../types.js';

function errnoOf(e: unknown): number {
  const errno = (e as NodeJS.ErrnoException).errno;
  return typeof errno === 'number' ? errno : -osConstants.errno.EINVAL;
}

/** Binds (when a source is given) and connects `socket`; the errno of the step that failed, or 0. */
function connectVia(socket: Socket, dst: string, port: number, source: string | undefined): Promise<number> {
  return new Promise((resolve) => {
    // `on`, not `once`: a second error must not go unhandled; only the first one counts.
    socket.on('error', (e) => resolve(errnoOf(e)));
    // dgram hands connect's own failure to the callback (the 'error' event gets the rest).
    const go = () => socket.connect(port, dst, (e?: Error) => resolve(e ? errnoOf(e) : 0));
    if (source === undefined) go();
    else socket.bind({ address: source, port: 0, exclusive: true }, go);
  });
}

/** The kernel's route toward `destination` as a connected UDP socket sees it. */
export async function routeByConnect(
  destination: string,
  opts: { source?: string; device?: string } = {},
): Promise<RouteLookup> {
  if (typeof destination !== 'string') throw new TypeError('destination must be a string');
  const dst = bareAddress(destination);
  if (!dst) return failedRoute(destination, osConstants.errno.EINVAL);
  // SO_BINDTODEVICE, which a lookup out of one device needs, is the addon's.
  if (opts.device !== undefined) return failedRoute(destination, osConstants.errno.ENOTSUP ?? 95);
  let source: string | undefined;
  if (opts.source !== undefined) {
    const src = bareAddress(opts.source);
    if (!src || src.family !== dst.family) return failedRoute(destination, osConstants.errno.EINVAL);
    source = src.address;
  }
  // The zone of a link-local destination ('fe80::1%eth0') goes to connect as written.
  const target = destination.replace(/^\[|\]$/g, '');
  const socket = createSocket(dst.family === 6 ? 'udp6' : 'udp4');
  try {
    const errno = await connectVia(socket, target, 9, source);
    if (errno !== 0) return failedRoute(dst.address, errno);
    const chosen = socket.address().address;
    const ip = parseIp(dst.address);
    const multicast =
      ip !== undefined && (ip.family === 4 ? (ip.bytes[0] ?? 0) >> 4 === 14 : ip.bytes[0] === 0xff);
    const local = chosen === dst.address || (ip !== undefined && isLoopback(ip));
    const out: RouteLookup = {
      ok: true,
      destination: dst.address,
      type: local ? 'local' : multicast ? 'multicast' : 'unicast',
    };
    if (chosen !== '0.0.0.0' && chosen !== '::') out.source = chosen;
    return out;
  } finally {
    socket.close();
  }
}
