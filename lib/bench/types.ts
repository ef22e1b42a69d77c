// The public shapes of `safebind bench churn`: what a run is asked to do and what it reports.
// The report's first fields are DESIGN.md's JSON contract; everything after them is additive.
import type { Diagnosis } from '../types.js';

export type ChurnMode = 'native' | 'node';

export interface ChurnOptions {
  /** The destination; without it the run starts its own loopback listener. Host names are resolved once. */
  target?: { host: string; port: number };
  /** How long to run; the default is 10 s when neither this nor `count` is given. */
  durationMs?: number;
  /** How many connects to attempt (successes and failures). */
  count?: number;
  /** Connects in flight at once (default 1). */
  concurrency?: number;
  /** native: the loop runs in the addon on its own thread; node: net.connect + destroy (default native). */
  mode?: ChurnMode;
  /** SO_LINGER {1, 0}: close sends RST and leaves no TIME_WAIT. */
  linger0?: boolean;
  /** IP_BIND_ADDRESS_NO_PORT before bind(source, 0): the port is picked at connect, per 4-tuple. */
  bindNoPort?: boolean;
  /** Source addresses, used round robin: each adds a pool of its own toward the destination. */
  sources?: string[];
  /** IP_LOCAL_PORT_RANGE per socket (kernel 6.3+). */
  localPortRange?: [number, number];
  /** Stop at the first failed attempt (rehearsals always do). */
  stopOnError?: boolean;
  /** Per-connect timeout; 0 = none. Default 5000 for an outside target, none for the own listener. */
  timeoutMs?: number;
  /** Port of the own listener (default 0: the kernel's pick, which comes out of the ephemeral range). */
  listenPort?: number;
  /** Sampling period (default 250 ms). */
  sampleIntervalMs?: number;
  /** Aborts the run; what was measured so far is still reported. */
  signal?: AbortSignal;
  /** Called with each sample as it is taken (progress lines). */
  onSample?: (sample: ChurnSample) => void;
}

export interface RehearseOptions extends Omit<ChurnOptions, 'target' | 'signal' | 'onSample' | 'listenPort'> {
  /** Ports in the namespace's ip_local_port_range (default 1000). */
  pool?: number;
  /** The module to run inside the namespace (default: this package's dist/bench/rehearse-entry.js). */
  entry?: string;
  /** Let the child print its live progress line on this process's stderr. */
  progress?: boolean;
  signal?: AbortSignal;
}

/** One 250 ms sample. Counts toward the target are read from the socket table (sock_diag). */
export interface ChurnSample {
  /** Since the run started. */
  tMs: number;
  /** Cumulative successful connects. */
  connects: number;
  /** Over the last period. */
  ratePerSec: number;
  /** Cumulative failed attempts. */
  errors: number;
  timeWait: number;
  established: number;
  /** Sockets holding a source port toward the target (any state), and the pool they draw from. */
  poolInUse: number;
  poolSize: number;
  /** poolInUse / poolSize */
  poolUsage: number;
}

export interface ChurnFirstFailure {
  /** 1-based ordinal of the failed attempt: with a pool of N and nothing else using it, N + 1. */
  attempt: number;
  atMs: number;
  syscall: string;
  code: string;
  errno: number;
  message: string;
  /** The local end at the moment of the failure ('0.0.0.0:0' for an unbound socket). */
  local: string;
  remote: string;
  diagnosis?: Diagnosis;
}

export interface ChurnReport {
  mode: ChurnMode;
  /** 'HOST:PORT' ('[V6]:PORT') */
  target: string;
  connects: number;
  durationMs: number;
  ratePerSec: number;
  latencyUs: { p50: number; p90: number; p99: number; max: number };
  /** Failed attempts by errno code. */
  errors: Record<string, number>;
  timeWaitPeak: number;
  firstFailure?: ChurnFirstFailure;
  // --- additive ---
  attempts: number;
  concurrency: number;
  cancelled: boolean;
  options: { linger0: boolean; bindNoPort: boolean; sources: string[]; localPortRange?: [number, number] };
  /** The source-port pool toward the target at the start (per source address when several). */
  pool?: { range: [number, number]; poolSize: number; sources: number };
  /** The run's own listener: connections it accepted (equals `connects` once all arrived). */
  listener?: { address: string; port: number; accepted: number };
  /** Set by a rehearsal: the namespace's pool, and the attempt at which it ran out. */
  rehearsal?: {
    pool: number;
    range: [number, number];
    tcpTwReuse: number;
    exhaustedAt?: number;
    /** The CPU the rehearsal ran pinned to (see rehearse.ts on why). */
    pinnedCpu?: number;
  };
  samples: ChurnSample[];
}
