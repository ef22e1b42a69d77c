// The route toward a destination without rtnetlink: a UDP socket connected to it (no datagram is
// sent) makes the kernel look the route up — policy rules, tables and local routes included — and
// fail with ENETUNREACH (no route), EHOSTUNREACH, EACCES (prohibit, or broadcast without
// SO_BROADCAST: tried again with it) or EINVAL (blackhole) as connect(2) does; its local address is the source the kernel chose. Which interface and gateway
// the route uses are not told: they are left out, and the reader says they were not read.
import { createSocket, type Socket } from 'node:dgram';
import { constants as osConstants } from 'node:os';
import { groupKind, isLoopback, parseIp } from '../../model/index.js';
import { failedRoute } from '../route.js';
import { bareAddress } from '../socket-query.js';
import type { RouteLookup } from '../types.js';

function errnoOf(e: unknown): number {
  const errno = (e as NodeJS.ErrnoException).errno;
  return typeof errno === 'number' ? errno : -osConstants.errno.EINVAL;
}

/**
 * Binds (when a source is given, or to the wildcard for `broadcast`) and connects `socket`; the errno
 * of the step that failed, or 0. With `broadcast`, SO_BROADCAST is set before the connect: without
 * it a UDP connect toward a broadcast route fails with EACCES, as it does toward a prohibit route.
 */
function connectVia(
  socket: Socket,
  dst: string,
  port: number,
  source: string | undefined,
  broadcast = false,
): Promise<number> {
  return new Promise((resolve) => {
    // `on`, not `once`: a second error must not go unhandled; only the first one counts.
    socket.on('error', (e) => resolve(errnoOf(e)));
    // dgram hands connect's own failure to the callback (the 'error' event gets the rest).
    const go = () => {
      if (broadcast) socket.setBroadcast(true);
      socket.connect(port, dst, (e?: Error) => resolve(e ? errnoOf(e) : 0));
    };
    if (source === undefined && !broadcast) go();
    else socket.bind({ address: source ?? '0.0.0.0', port: 0, exclusive: true }, go);
  });
}

/** Connects a fresh UDP socket as {@link connectVia} does; the errno and the source the kernel chose. */
async function tryConnect(
  family: 4 | 6,
  target: string,
  source: string | undefined,
  broadcast: boolean,
): Promise<{ errno: number; chosen: string }> {
  const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  try {
    const errno = await connectVia(socket, target, 9, source, broadcast);
    return { errno, chosen: errno === 0 ? socket.address().address : '' };
  } finally {
    socket.close();
  }
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
  let { errno, chosen } = await tryConnect(dst.family, target, source, false);
  // EACCES: a prohibit route, or a broadcast one (IPv4), which lets a socket with SO_BROADCAST through.
  let broadcast = false;
  if (Math.abs(errno) === osConstants.errno.EACCES && dst.family === 4) {
    const again = await tryConnect(4, target, source, true);
    if (again.errno === 0) ({ errno, chosen, broadcast } = { ...again, broadcast: true });
  }
  if (errno !== 0) return failedRoute(dst.address, errno);
  const ip = parseIp(dst.address);
  const multicast = ip !== undefined && groupKind(ip) === 'multicast';
  const local = chosen === dst.address || (ip !== undefined && isLoopback(ip));
  const out: RouteLookup = {
    ok: true,
    destination: dst.address,
    type: local ? 'local' : broadcast ? 'broadcast' : multicast ? 'multicast' : 'unicast',
  };
  if (chosen !== '0.0.0.0' && chosen !== '::') out.source = chosen;
  return out;
}
