// The host-reader interface and the one place that picks its implementation: the addon's
// (rtnetlink, sock_diag, the addon's sockets) when the addon loads, else the no-addon one
// (lib/host/fallback: /proc, os.networkInterfaces(), Node's own sockets), which names once the facts
// it cannot read. The readers exported by lib/host go through the reader picked here.
import { addonTurnedOff, loadBinding } from '../binding.js';
import { closeSocket, localAddress, openSocket } from '../sys/index.js';
import type { Address, Result } from '../types.js';
import { readAddresses as readAddressesNative } from './addresses.js';
import { bindWithNode, type BindProbe } from './fallback/bind-probe.js';
import { readAddressesFromProc } from './fallback/addresses.js';
import { routeByConnect } from './fallback/route.js';
import { countSocketsFromTable, listSocketsFromTable, tallyFromTable } from './fallback/sockets.js';
import { lookupRoute as lookupRouteNative } from './route.js';
import { tallyByRemote as tallyNative } from './socket-tally.js';
import { countSockets as countNative, listSockets as listNative } from './sockets.js';
import type { RemoteTally, RouteLookup, SocketCounts, SocketList, SocketQuery } from './types.js';
import { watchAddresses as watchNative, type AddressWatch } from './watch.js';
import { unsupportedError } from '../sys/errors.js';

export type { BindProbe } from './fallback/bind-probe.js';

/** Reads the host; one implementation per way of reading it. */
export interface HostReader {
  /** 'addon': netlink and the addon's sockets; 'no-addon': /proc, os.networkInterfaces(), Node sockets. */
  readonly kind: 'addon' | 'no-addon';
  /** Why the addon is not used (the loader's reason); undefined for the addon reader. */
  readonly reason?: string;
  /** True when the addon was turned off on purpose (SAFEBIND_ADDON=none, a test), not failed to load. */
  readonly turnedOff?: boolean;
  /** The facts this reader cannot read, in words, to be said once; empty for the addon reader. */
  readonly notRead: readonly string[];
  readAddresses(): Result<Address[]>;
  countSockets(q?: SocketQuery): Result<SocketCounts>;
  listSockets(q?: SocketQuery, limit?: number): Result<SocketList>;
  tallyByRemote(q?: SocketQuery, skipLocalPort?: (port: number) => boolean): Result<RemoteTally>;
  lookupRoute(destination: string, opts?: { source?: string; device?: string }): Promise<RouteLookup>;
  watchAddresses(onChange: () => void): Result<AddressWatch>;
  /** Binds and closes at once: the port bound, or the bind's failure. */
  probeBind(probe: BindProbe): Promise<Result<{ port: number }>>;
}

function nativeProbe(probe: BindProbe): Result<{ port: number }> {
  const opened = openSocket({
    family: probe.family,
    protocol: probe.protocol,
    ...(probe.options ? { options: probe.options } : {}),
    bind: {
      address: probe.address,
      port: probe.port,
      family: probe.family,
      ...(probe.scopeId !== undefined ? { scopeId: probe.scopeId } : {}),
    },
  });
  if (!opened.ok) return opened;
  const local = localAddress(opened.value);
  closeSocket(opened.value);
  return local.ok ? { ok: true, value: { port: local.value.port } } : local;
}

export const addonReader: HostReader = {
  kind: 'addon',
  notRead: [],
  readAddresses: readAddressesNative,
  countSockets: countNative,
  listSockets: listNative,
  tallyByRemote: tallyNative,
  lookupRoute: (destination, opts) => Promise.resolve(lookupRouteNative(destination, opts)),
  watchAddresses: watchNative,
  probeBind: (probe) => Promise.resolve(nativeProbe(probe)),
};

/** What the no-addon reader cannot read, as `inspectHost` and the diagnosis say it once. */
export const NOT_READ_WITHOUT_ADDON = [
  'the lower-up link flag',
  'IPv4 address flags (secondary, permanent…) and IPv6 flags above permanent',
  'the interface and gateway of routes',
  'IPV6_V6ONLY of listening sockets',
  'TCP sockets bound without listening',
  'address notifications (changes are polled)',
] as const;

export function noAddonReader(reason: string, turnedOff = false): HostReader {
  return {
    kind: 'no-addon',
    reason,
    turnedOff,
    notRead: NOT_READ_WITHOUT_ADDON,
    readAddresses: readAddressesFromProc,
    countSockets: countSocketsFromTable,
    listSockets: listSocketsFromTable,
    tallyByRemote: tallyFromTable,
    lookupRoute: routeByConnect,
    watchAddresses: () => ({ ok: false, error: unsupportedError(`no address notifications: ${reason}`) }),
    probeBind: (probe) => bindWithNode(probe, reason),
  };
}

let forced: HostReader | undefined;

/**
 * The reader of this process: the addon's when it loads, else the no-addon one. `SAFEBIND_ADDON=none`
 * turns the addon off for the whole process (the loader then loads nothing).
 */
export function hostReader(): HostReader {
  if (forced !== undefined) return forced;
  const load = loadBinding();
  if (load.ok) return addonReader;
  return addonTurnedOff() ? noAddonReader('SAFEBIND_ADDON=none', true) : noAddonReader(load.reason);
}

/**
 * Tests only (not exported by the package): run the readers of this process through one
 * implementation, as bufferutil runs one suite against its native and its fallback code. No
 * argument goes back to the automatic choice.
 */
export function useHostReader(kind?: 'addon' | 'no-addon'): void {
  forced =
    kind === undefined
      ? undefined
      : kind === 'addon'
        ? addonReader
        : noAddonReader('forced by the test', true);
}

// The readers lib/host exports, through the reader of this process.
export const readAddresses = (): Result<Address[]> => hostReader().readAddresses();
export const countSockets = (q?: SocketQuery): Result<SocketCounts> => hostReader().countSockets(q);
export const listSockets = (q?: SocketQuery, limit?: number): Result<SocketList> =>
  hostReader().listSockets(q, limit);
export const tallyByRemote = (
  q?: SocketQuery,
  skipLocalPort?: (port: number) => boolean,
): Result<RemoteTally> => hostReader().tallyByRemote(q, skipLocalPort);
export const watchAddresses = (onChange: () => void): Result<AddressWatch> =>
  hostReader().watchAddresses(onChange);
