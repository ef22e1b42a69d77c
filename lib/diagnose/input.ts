// What diagnose decides from: the failure as it happened, and a snapshot of the host read right
// after it. Both are plain data so the diagnose layer stays pure and is unit-tested with literals.
import type { Neighbour, NetSysctls, PortHolder, ResolverConfig, RouteLookup } from '../host/types.js';
import type { Ip } from '../model/ip.js';
import type { SocketOptions } from '../sys/options.js';
import type { Address, Family, PortUsage, Protocol, SocketError } from '../types.js';

export interface AttemptEndpoint {
  host: string;
  port: number;
  family?: Family;
  /** IPv6 scope id (interface index) when one was given or resolved. */
  scopeId?: number;
  /** The interface named after '%' in fe80::1%eth0. */
  interface?: string;
  /**
   * The address as parsed where it entered (lib/model bytes, no zone): given, the diagnosis uses it
   * and never parses `host` again. Absent when the endpoint arrived as text (a Node error's address).
   */
  ip?: Ip;
}

/**
 * What was attempted and how it failed — the operation, its endpoints, the options, the error (null
 * when no syscall was made) — as the diagnosis reasons about it. (Not to be confused with the api's
 * `Failed`, a result carrying its Diagnosis.)
 */
export interface Attempt {
  /** What the caller was doing; a connect with a localAddress can fail at its bind step. */
  operation: 'bind' | 'listen' | 'connect';
  protocol: Protocol;
  /** The failed syscall; null when none was made (invalid input, unsupported platform). */
  error: SocketError | null;
  /** The local end: the address being bound, or the localAddress of an outbound connection. */
  local?: AttemptEndpoint;
  /** The destination of a connect. */
  remote?: AttemptEndpoint;
  /**
   * The socket options that were set, by their name in the one option table (lib/sys/options.ts,
   * where each is documented). reuseAddress is recorded even when off; ipv6Only unset means the
   * system default (net.ipv6.bindv6only).
   */
  options: SocketOptions;
  /** Why the input is not a usable address or port, when it is not. */
  invalid?: string;
  /** Milliseconds already spent waiting for the address to become bindable before this failure. */
  waitedMs?: number;
  /**
   * Source addresses a pool of sources (safebind/agent, safeConnect({ sources })) already tried
   * toward the destination, each full: never offered again as "more sources".
   */
  triedSources?: string[];
}

export interface HostSnapshot {
  /** process.platform */
  platform: string;
  kernel?: string;
  addresses?: Address[];
  sysctls?: NetSysctls;
  /** A probe bind of the same local address made after the failure (address-appeared). */
  rebind?: { ok: true } | { ok: false; code: string };
  /** Source-port pool toward the destination of a failed connect. */
  portUsage?: PortUsage;
  /**
   * The neighbour table (ARP and IPv6 neighbour discovery), read for a bind EADDRNOTAVAIL: another host on the link answering for
   * the address (a VIP live on the VRRP master) makes it `address-on-other-host`.
   */
  neighbours?: Neighbour[];
  /**
   * Whether the link was asked who has a missing bind address (a probe: preflight --probe). Without
   * it, an address another host holds looks exactly like one not attached yet.
   */
  linkAsked?: boolean;
  /** Holders of the local port of a failed bind (EADDRINUSE). */
  holders?: PortHolder[];
  /** The pid of the process that read the holders: a holder with it is this process itself. */
  selfPid?: number;
  /**
   * Listening sockets on the destination port of a refused connect, on any address of this
   * namespace; absent when not read (the destination is not local, or the table was refused).
   */
  listeners?: PortHolder[];
  /** The resolver configuration, for a name that did not resolve. */
  resolver?: ResolverConfig;
  /** Route lookup toward the destination of a failed connect. */
  route?: RouteLookup;
  /** Bound ports in the ephemeral range, for bind(…, 0) EADDRINUSE. */
  boundPorts?: { inUse: number; poolSize: number };
  privileges?: { euid: number; netBindService: boolean };
  /** What could not be read, and why, so the diagnosis says what it could not check. */
  unavailable: string[];
}
