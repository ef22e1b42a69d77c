// What both loops (native thread, Node event loop) share: the same plan in, the same figures out,
// so the report does not depend on which one ran.
import type { Histogram } from 'hdr-histogram-js';
import type { SocketError } from '../types.js';

export interface Endpoint {
  family: 4 | 6;
  address: string;
  port: number;
  /** Interface index of a scoped (link-local) IPv6 target, and its name as written after '%'. */
  scopeId?: number;
  zone?: string;
}

export interface DriverPlan {
  target: Endpoint;
  sources: string[];
  linger0: boolean;
  bindNoPort: boolean;
  localPortRange?: [number, number];
  concurrency: number;
  /** 0 = no limit */
  count: number;
  /** 0 = no limit */
  durationMs: number;
  /** 0 = none */
  timeoutMs: number;
  stopOnError: boolean;
}

export interface DriverFailure {
  errno: number;
  syscall: string;
  attempt: number;
  atNs: number;
  local: { address: string; port: number };
}

export interface DriverOutcome {
  attempts: number;
  connects: number;
  errors: number;
  elapsedNs: number;
  cancelled: boolean;
  histogram: Histogram;
  latencyMaxNs: number;
  /** Failed attempts by positive errno. */
  errnos: Map<number, number>;
  firstFailure?: DriverFailure;
  /** The loop itself broke (setns, epoll); what it measured until then is still here. */
  fault?: SocketError;
}

export interface DriverProgress {
  attempts: number;
  connects: number;
  errors: number;
}

export interface Driver {
  progress(): DriverProgress;
  cancel(): void;
  done: Promise<DriverOutcome>;
}
