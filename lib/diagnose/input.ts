// What diagnose decides from: the failure as it happened, and a snapshot of the host read right
// after it. Both are plain data so the diagnose layer stays pure and is unit-tested with literals.
import type { Neighbour, NetSysctls, PortHolder, ResolverConfig, RouteLookup } from '../host/types.js';
import type { Address, Family, PortUsage, Protocol, SocketError } from '../types.js';

export interface FailureEndpoint {
  host: string;
  port: number;
  family?: Family;
  /** IPv6 scope id (interface index) when one was given or resolved. */
  scopeId?: number;
  /** The interface named after '%' in fe80::1%eth0. */
  interface?: string;
}

export interface Failure {
  /** What the caller was doing; a connect with a localAddress can fail at its bind step. */
  operation: 'bind' | 'listen' | 'connect';
  protocol: Protocol;
  /** The failed syscall; null when none was made (invalid input, unsupported platform). */
  error: SocketError | null;
  /** The local end: the address being bound, or the localAddress of an outbound connection. */
  local?: FailureEndpoint;
  /** The destination of a connect. */
  remote?: FailureEndpoint;
  options: {
    /** IP_FREEBIND (IPPROTO_IP) / IPV6_FREEBIND (IPPROTO_IPV6) was set: the address need not be local. */
    freebind?: boolean;
    /** SO_REUSEADDR (SOL_SOCKET) was set: TIME_WAIT holders of the port do not block the bind. */
    reuseAddress?: boolean;
    /** SO_REUSEPORT (SOL_SOCKET) was set. */
    reusePort?: boolean;
    /** IPV6_V6ONLY (IPPROTO_IPV6) as set; unset means the system default (net.ipv6.bindv6only). */
    ipv6Only?: boolean;
    /** SO_BINDTODEVICE (SOL_SOCKET): the interface the socket was bound to. */
    device?: string;
    /** IP_BIND_ADDRESS_NO_PORT (IPPROTO_IP) was set on the source of a connect. */
    bindAddressNoPort?: boolean;
  };
  /** Why the input is not a usable address or port, when it is not. */
  invalid?: string;
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
   * The IPv4 neighbour table, read for a bind EADDRNOTAVAIL: another host on the link answering for
   * the address (a VIP live on the VRRP master) makes it `address-on-other-host`.
   */
  neighbours?: Neighbour[];
  /** Holders of the local port of a failed bind (EADDRINUSE). */
  holders?: PortHolder[];
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
