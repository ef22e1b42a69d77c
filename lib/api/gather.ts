// Reads the host state a failure's diagnosis needs, and nothing more: every failure gets the
// addresses and sysctls; then each kind of failure reads its own evidence (a probe bind, the
// source-port pool, the port's holders, the route, the process's privileges). What cannot be read
// is recorded, so the diagnosis says what it could not check.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { Attempt, HostSnapshot } from '../diagnose/input.js';
import {
  findPortHolders,
  hostReader,
  lookupRoute,
  type BindProbe,
  type RouteLookup,
  readNeighbours,
  listSockets,
  readAddresses,
  readNetSysctls,
  readPortUsage,
  readResolverConfig,
} from '../host/index.js';
import { isNameFailure } from '../diagnose/lookup.js';
import { formatIp } from '../model/index.js';
import { closeSocket, openSocket, parseHost, sockAddr, type SockAddr } from '../sys/index.js';

/** CAP_NET_BIND_SERVICE is bit 10 of the capability sets (linux/capability.h). */
const CAP_NET_BIND_SERVICE_BIT = 10n;

function readPrivileges(): HostSnapshot['privileges'] {
  let netBindService = false;
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    if (eff) netBindService = ((BigInt(`0x${eff}`) >> CAP_NET_BIND_SERVICE_BIT) & 1n) === 1n;
  } catch {
    // Without /proc we cannot tell; euid 0 still says enough in most cases.
  }
  return { euid: process.geteuid?.() ?? -1, netBindService };
}

/** What a probe bind of the failure's address binds: port 0 of the same address. */
function probeTarget(failure: Attempt): BindProbe | undefined {
  const local = failure.local;
  if (!local) return undefined;
  let addr: SockAddr;
  if (local.ip !== undefined) {
    // Parsed where it entered: its bytes are printed, not parsed again.
    addr = { address: formatIp(local.ip), port: 0, family: local.ip.family };
    if (local.scopeId !== undefined) addr.scopeId = local.scopeId;
  } else {
    const parsed = parseHost(local.host);
    if (!parsed.ok) return undefined;
    addr = {
      ...sockAddr(parsed.value, 0),
      ...(local.scopeId !== undefined ? { scopeId: local.scopeId } : {}),
    };
  }
  return {
    address: addr.address,
    family: addr.family,
    port: 0,
    protocol: failure.protocol,
    ...(addr.scopeId !== undefined ? { scopeId: addr.scopeId } : {}),
    ...(local.interface !== undefined ? { interface: local.interface } : {}),
  };
}

/** Is the address bindable now? A bind to port 0 of the same address with the addon, closed at once. */
function probeBind(target: BindProbe): HostSnapshot['rebind'] {
  const opened = openSocket({
    family: target.family,
    protocol: target.protocol,
    bind: {
      address: target.address,
      port: 0,
      family: target.family,
      ...(target.scopeId !== undefined ? { scopeId: target.scopeId } : {}),
    },
  });
  if (!opened.ok) return { ok: false, code: opened.error.code };
  closeSocket(opened.value);
  return { ok: true };
}

/** The facts that, without the addon, only Node's asynchronous sockets read: made before gathering. */
export interface Prefetched {
  rebind?: HostSnapshot['rebind'];
  route?: RouteLookup;
}

const wantsProbe = (failure: Attempt) =>
  failure.error?.code === 'EADDRNOTAVAIL' && failure.operation !== 'connect';
const wantsRoute = (failure: Attempt) =>
  (failure.error?.code === 'ENETUNREACH' || failure.error?.code === 'EHOSTUNREACH') &&
  failure.remote !== undefined;

/**
 * Without the addon: the probe bind and the route lookup a failure needs, made with Node's sockets
 * through the no-addon reader. Undefined with the addon (gatherSnapshot makes them synchronously).
 */
export async function prefetchWithoutAddon(failure: Attempt): Promise<Prefetched | undefined> {
  const reader = hostReader();
  if (reader.kind === 'addon' || process.platform !== 'linux') return undefined;
  const out: Prefetched = {};
  const target = wantsProbe(failure) ? probeTarget(failure) : undefined;
  if (target !== undefined) {
    const bound = await reader.probeBind(target);
    out.rebind = bound.ok ? { ok: true } : { ok: false, code: bound.error.code };
  }
  if (wantsRoute(failure) && failure.remote) {
    out.route = await reader.lookupRoute(
      failure.remote.host,
      failure.local ? { source: failure.local.host } : {},
    );
  }
  return out;
}

/** How many distinct local ports of the ephemeral range are bound (for bind(…, 0) EADDRINUSE). */
function readBoundPorts(failure: Attempt, snapshot: HostSnapshot): HostSnapshot['boundPorts'] {
  const range = snapshot.sysctls?.ipLocalPortRange;
  if (!range) return undefined;
  const [lo, hi] = range;
  const reserved = snapshot.sysctls?.ipLocalReservedPorts ?? [];
  const isReserved = (p: number) => reserved.some(([a, b]) => p >= a && p <= b);
  // /proc/net/tcp lists listeners and connections, not TCP sockets only bound: a count from it
  // would understate how full the range is.
  if (hostReader().kind === 'no-addon' && failure.protocol === 'tcp') {
    snapshot.unavailable.push(
      'the bound ports of the range (TCP sockets bound without listening are not in /proc/net/tcp; sock_diag, through the addon, lists them)',
    );
    return undefined;
  }
  // Every bound socket in any state holds its port: listeners, established, TIME_WAIT, unconnected UDP.
  const listed = listSockets({ protocol: failure.protocol }, 200_000);
  if (!listed.ok) {
    snapshot.unavailable.push(`the socket table (${listed.error.message})`);
    return undefined;
  }
  if (listed.value.truncated) {
    // A count from part of the table would understate how full the range is: none is given.
    snapshot.unavailable.push('the bound ports of the range (more than 200,000 sockets; not counted)');
    return undefined;
  }
  const ports = new Set<number>();
  for (const s of listed.value.sockets)
    if (s.localPort >= lo && s.localPort <= hi && !isReserved(s.localPort)) ports.add(s.localPort);
  let poolSize = 0;
  for (let p = lo; p <= hi; p++) if (!isReserved(p)) poolSize++;
  return { inUse: ports.size, poolSize };
}

/**
 * The host snapshot a failure's diagnosis needs, read synchronously. Without the addon, the probe
 * bind and the route lookup come from `prefetched` (prefetchWithoutAddon), or are said unavailable.
 */
export function gatherSnapshot(failure: Attempt, prefetched?: Prefetched): HostSnapshot {
  const snapshot: HostSnapshot = { platform: process.platform, kernel: release(), unavailable: [] };
  if (process.platform !== 'linux') return snapshot;
  const reader = hostReader();
  if (reader.kind === 'no-addon')
    snapshot.unavailable.push(`running without the native addon: ${reader.notRead.join(', ')} not read`);

  const addresses = readAddresses();
  if (addresses.ok) snapshot.addresses = addresses.value;
  else snapshot.unavailable.push(`the interface addresses (${addresses.error.message})`);
  snapshot.sysctls = readNetSysctls();

  const code = failure.error?.code ?? '';
  const bindStep = failure.error?.syscall === 'bind' || failure.operation !== 'connect';

  if (code === 'EADDRNOTAVAIL' && failure.operation !== 'connect') {
    const target = probeTarget(failure);
    if (target !== undefined && reader.kind === 'addon') snapshot.rebind = probeBind(target);
    else if (prefetched?.rebind !== undefined) snapshot.rebind = prefetched.rebind;
    else if (target !== undefined)
      snapshot.unavailable.push(
        'the probe bind (without the addon it is made with a Node socket, which binds asynchronously)',
      );
    // Whether another host on the link answers for the address (a VIP live on the VRRP master).
    const neighbours = readNeighbours();
    if (neighbours.ok) snapshot.neighbours = neighbours.value;
    else snapshot.unavailable.push(`the neighbour table (${neighbours.error.message})`);
  }

  // Node's net.connect({ localAddress }) binds (ip, 0) with SO_REUSEADDR before connecting: when every
  // port toward the destination is taken, the bind shares one and connect fails with EADDRINUSE.
  const sharedSourcePort = code === 'EADDRINUSE' && (failure.local?.port ?? 0) === 0;
  if (
    failure.operation === 'connect' &&
    !bindStep &&
    (code === 'EADDRNOTAVAIL' || code === 'EAGAIN' || sharedSourcePort)
  ) {
    if (failure.remote && failure.remote.port > 0) {
      const usage = readPortUsage({
        host: failure.remote.host,
        port: failure.remote.port,
        protocol: failure.protocol,
        ...(failure.local ? { localAddress: failure.local.host } : {}),
      });
      if (usage.ok) snapshot.portUsage = usage.value;
      else snapshot.unavailable.push(`the source-port pool (${usage.error.message})`);
    } else {
      snapshot.unavailable.push(
        'the source-port pool toward the destination: the error does not name it (pass { host, port } as context)',
      );
    }
  }

  if (code === 'EADDRINUSE' && failure.local) {
    if (failure.local.port === 0) {
      if (bindStep) snapshot.boundPorts = readBoundPorts(failure, snapshot);
    } else {
      const holders = findPortHolders({
        protocol: failure.protocol,
        port: failure.local.port,
        address: failure.local.host,
      });
      if (holders.ok) {
        snapshot.holders = holders.value;
        snapshot.selfPid = process.pid;
      } else
        snapshot.unavailable.push(`the holders of port ${failure.local.port} (${holders.error.message})`);
    }
  }

  if (code === 'EACCES') snapshot.privileges = readPrivileges();

  // A refused connect: what listens on that port here, on any address, shows a server listening on
  // another address than the one connected to (127.0.0.1 only, while the client tried ::1).
  if (code === 'ECONNREFUSED' && failure.operation === 'connect' && !isNameFailure(failure.error)) {
    const port = failure.remote?.port ?? 0;
    if (port > 0) {
      const holders = findPortHolders({ protocol: failure.protocol, port });
      if (holders.ok) snapshot.listeners = holders.value.filter((h) => h.state === 'LISTEN');
      else snapshot.unavailable.push(`the listeners on port ${port} (${holders.error.message})`);
    } else {
      snapshot.unavailable.push(
        'the listeners on the destination port: the error does not name it (pass { host, port } as context)',
      );
    }
  }

  if (isNameFailure(failure.error) && failure.remote !== undefined) {
    snapshot.resolver = readResolverConfig(failure.remote.host);
  }

  if (code === 'ENETUNREACH' || code === 'EHOSTUNREACH') {
    if (failure.remote) {
      const opts = failure.local ? { source: failure.local.host } : {};
      if (reader.kind === 'addon') snapshot.route = lookupRoute(failure.remote.host, opts);
      else if (prefetched?.route !== undefined) snapshot.route = prefetched.route;
      else
        snapshot.unavailable.push(
          'the route (without the addon it is looked up with a Node socket, which connects asynchronously)',
        );
    } else {
      snapshot.unavailable.push(
        'the route: the error does not name the destination (pass { host, port } as context)',
      );
    }
  }
  return snapshot;
}
