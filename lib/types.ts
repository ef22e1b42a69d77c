// The public shapes of DESIGN.md, shared by every layer. Names here are public API.

/** A failed system call, as data. `errno` is positive, as the kernel gives it (99). */
export interface SocketError {
  /** 'socket' | 'setsockopt' | 'bind' | 'listen' | 'connect' | … */
  syscall: string;
  errno: number;
  /** 'EADDRNOTAVAIL' */
  code: string;
  /** Node-style: 'bind EADDRNOTAVAIL 10.0.0.50:8080' */
  message: string;
  address?: string;
  port?: number;
}

/** The outcome of an operation that can fail at run time. Narrow on `ok` before reading. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: SocketError };

export type Protocol = 'tcp' | 'udp';
export type Family = 4 | 6;

/** Stable cause identifiers (DESIGN.md, "Causes"). */
export type Cause =
  | 'address-not-local'
  | 'address-appeared'
  | 'address-tentative'
  | 'address-dad-failed'
  | 'family-unavailable'
  | 'scope-id-required'
  | 'source-not-local'
  | 'ephemeral-ports-exhausted'
  | 'bind-ports-exhausted'
  | 'port-in-use'
  | 'port-privileged'
  | 'no-route'
  | 'invalid-address'
  | 'unsupported-platform'
  | 'unknown';

export interface Remediation {
  title: string;
  commands?: string[];
  /** A code option that fixes it: `freebind: true`, `waitForAddress: 30000`. */
  option?: string;
  /** The price of the fix, where it has one. */
  warning?: string;
}

export interface Diagnosis {
  cause: Cause;
  /** The errno code that was explained ('EADDRNOTAVAIL'), or '' when no syscall was made. */
  code: string;
  summary: string;
  details: string[];
  evidence: Record<string, unknown>;
  remediation: Remediation[];
}

export interface Address {
  interface: string;
  ifindex: number;
  address: string;
  family: Family;
  prefixLength: number;
  scopeId?: number;
  /** up, running, loopback, tentative, dadfailed, deprecated, secondary, permanent, nodad … */
  flags: string[];
}

export interface PortUsage {
  protocol: Protocol;
  /** 'HOST:PORT' or '[V6]:PORT' */
  destination: string;
  localAddress?: string;
  range: [number, number];
  reserved: number;
  poolSize: number;
  inUse: number;
  byState: Record<string, number>;
  /** inUse / poolSize */
  usage: number;
}

export interface HostReport {
  kernel: string;
  addresses: Address[];
  sysctls: Record<string, string>;
  sockets: { byState: Record<string, number>; topDestinations: PortUsage[] };
  warnings: string[];
}

export interface PreflightCheck {
  kind: 'bind' | 'connect';
  target: string;
  ok: boolean;
  diagnosis?: Diagnosis;
  warnings?: string[];
}

export interface PreflightReport {
  ok: boolean;
  checks: PreflightCheck[];
}
