// The public shapes of DESIGN.md, shared by every layer. Names here are public API.

/** A failed system call, as data. `errno` is positive, as the kernel gives it (99). */
export interface SocketError {
  /** 'socket' | 'setsockopt' | 'bind' | 'listen' | 'connect' | … */
  syscall: string;
  /** The kernel's error number, positive: 99 for EADDRNOTAVAIL on Linux. */
  errno: number;
  /** 'EADDRNOTAVAIL' */
  code: string;
  /** Node-style: 'bind EADDRNOTAVAIL 10.0.0.50:8080' */
  message: string;
  /** The address the call was made with, when it had one. */
  address?: string;
  /** The port the call was made with, when it had one. */
  port?: number;
}

/** The outcome of an operation that can fail at run time. Narrow on `ok` before reading. */
export type Result<T> =
  | {
      /** The call succeeded. */
      ok: true;
      /** What it returned. */
      value: T;
    }
  | {
      /** The call failed. */
      ok: false;
      /** The errno the kernel gave, with the call that gave it. */
      error: SocketError;
    };

/** The transport of a socket: TCP (SOCK_STREAM) or UDP (SOCK_DGRAM). */
export type Protocol = 'tcp' | 'udp';
/** The IP version: 4 (AF_INET) or 6 (AF_INET6). */
export type Family = 4 | 6;

/**
 * Stable cause identifiers (DESIGN.md and the README, "Causes"). Outbound connections add
 * `connection-refused` (connect ECONNREFUSED: nothing accepts on that port; the evidence lists
 * this namespace's listeners on it) and `name-not-resolved` (getaddrinfo EAI_AGAIN or ENOTFOUND;
 * the evidence is the resolver configuration read from /etc).
 */
export type Cause =
  | 'address-not-local'
  | 'address-appeared'
  | 'address-tentative'
  | 'address-dad-failed'
  | 'address-on-other-host'
  | 'family-unavailable'
  | 'scope-id-required'
  | 'source-not-local'
  | 'ephemeral-ports-exhausted'
  | 'bind-ports-exhausted'
  | 'port-in-use'
  | 'port-privileged'
  | 'no-route'
  | 'connection-refused'
  | 'name-not-resolved'
  | 'invalid-address'
  | 'unsupported-platform'
  | 'unknown';

/** One way to fix a diagnosed failure, most likely first in {@link Diagnosis.remediation}. */
export interface Remediation {
  /** What to do, in one line. */
  title: string;
  /** Shell commands with the real addresses and interfaces filled in. */
  commands?: string[];
  /** A code option that fixes it: `freebind: true`, `waitForAddress: 30000`. */
  option?: string;
  /** The price of the fix, where it has one. */
  warning?: string;
}

/** Why a bind, listen or connect failed: the cause, the evidence read from the host, and the fix. */
export interface Diagnosis {
  /** Stable identifier of the cause (DESIGN.md, "Causes"). */
  cause: Cause;
  /** The errno code that was explained ('EADDRNOTAVAIL'), or '' when no syscall was made. */
  code: string;
  /** The one line a person reads first. */
  summary: string;
  /** The reasoning, each line a fact that was read from the host. */
  details: string[];
  /** The same facts as data: addresses, counts, sysctls, a {@link PortUsage}… */
  evidence: Record<string, unknown>;
  /** The fixes, most likely first. */
  remediation: Remediation[];
}

/** An address of an interface of this host (rtnetlink RTM_GETADDR), with its state. */
export interface Address {
  /** The interface name: 'eth0'. */
  interface: string;
  /** The interface index. */
  ifindex: number;
  /** The address, without prefix or scope: '10.0.0.50', 'fe80::1'. */
  address: string;
  /** 4 or 6. */
  family: Family;
  /** The prefix length of the subnet: 24 of 10.0.0.50/24. */
  prefixLength: number;
  /** The scope id to bind a link-local IPv6 address with (the interface index). */
  scopeId?: number;
  /** up, running, loopback, tentative, dadfailed, deprecated, secondary, permanent, nodad … */
  flags: string[];
  /**
   * Only without the native addon: the flags and fields that could not be read for this address
   * ('lower-up', 'up', 'interface', 'prefixLength', 'address flags'). A name listed here is unknown,
   * never false; with the addon every flag is read and this is absent.
   */
  unknown?: string[];
}

/** How full the source-port pool toward one destination is. Connect fails when `inUse` reaches `poolSize`. */
export interface PortUsage {
  /** The transport the pool is counted for (each has its own pool). */
  protocol: Protocol;
  /** 'HOST:PORT' or '[V6]:PORT' */
  destination: string;
  /**
   * The source address the connections use, when they bind one; when they leave from several, the
   * one whose pool is fullest, which the figures below are for (each source has a pool of its own).
   */
  localAddress?: string;
  /** TCP connections from several source addresses: each one's sockets toward the destination. */
  sources?: Array<{
    /** The source address. */
    address: string;
    /** Its sockets toward the destination: the ports of its own pool in use. */
    inUse: number;
  }>;
  /** net.ipv4.ip_local_port_range (it governs IPv6 too). */
  range: [number, number];
  /** Ports of the range listed in net.ipv4.ip_local_reserved_ports. */
  reserved: number;
  /** The range less the reserved ports: how many connections can exist toward the destination. */
  poolSize: number;
  /** Sockets toward the destination in any state but LISTEN: each holds a source port. */
  inUse: number;
  /** `inUse` by socket state: ESTABLISHED, TIME_WAIT, … */
  byState: Record<string, number>;
  /** inUse / poolSize */
  usage: number;
  /**
   * Set when the pool could not be read (`net.ipv4.ip_local_port_range` or
   * `ip_local_reserved_ports` unreadable): the reason. `range`, `poolSize` and `usage` are then
   * `NaN` (`null` in JSON), never a default range; `inUse` and `byState` are still counted.
   */
  notRead?: string;
}

/** The triage of this host that `inspectHost()` and `safebind doctor` give. */
export interface HostReport {
  /** The kernel, as `uname -sr` prints it: 'Linux 6.1.0-18-amd64'. */
  kernel: string;
  /** Every interface address, with its state. */
  addresses: Address[];
  /** The network sysctls that decide bind and connect, by dotted name, as the kernel prints them. */
  sysctls: Record<string, string>;
  /** TCP sockets by state, and the busiest destinations with their source-port pools. */
  sockets: {
    /**
     * TCP sockets by state name: ESTABLISHED, TIME_WAIT, LISTEN, …, as `ss -tan` counts them (the
     * sockets only bound are in `boundOnly`).
     */
    byState: Record<string, number>;
    /**
     * TCP sockets only bound: bind() done, neither connect() nor listen() yet, each holding its port
     * (a client that sets localAddress binds before it connects). `ss -tan` does not list them.
     * Absent when they could not be counted, `notRead.boundOnly` saying why: Linux before 6.5 does
     * not list them, /proc/net neither.
     */
    boundOnly?: number;
    /** The destinations with the most sockets, busiest first. */
    topDestinations: PortUsage[];
  };
  /** What needs attention, in words. */
  warnings: string[];
  /**
   * What could not be read, with the reason, by what it is: `addresses`, `sockets` (the socket
   * table: sock_diag and /proc/net both refused), `topDestinations`, or a sysctl's dotted name.
   * Whatever is named here is missing from the report, not empty: `sockets.byState` of `{}` with
   * `notRead.sockets` set means the table was not read, not that there are no sockets. Absent
   * when everything was read. Without the native addon, `addon` names why it is not used and the
   * facts the no-addon readers cannot read, and `address <ip>` an IPv4 address whose interface and
   * prefix could not be told.
   */
  notRead?: Record<string, string>;
}

/** One target checked by `preflight()`. */
export interface PreflightCheck {
  /** Whether the target was to be bound or connected to. */
  kind: 'bind' | 'connect';
  /** The target as given: '10.0.0.50:8080', '[fd00::1]:443'. */
  target: string;
  /** The check passed. */
  ok: boolean;
  /** Why it failed, when it did. */
  diagnosis?: Diagnosis;
  /** What passed but needs attention (a source-port pool filling up, say). */
  warnings?: string[];
}

/** What `preflight()` found: `ok` when every check passed. */
export interface PreflightReport {
  /** Every check passed. */
  ok: boolean;
  /** One entry per target, in the order given. */
  checks: PreflightCheck[];
}
