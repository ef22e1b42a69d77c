// The shapes of `safebind bench capacity`: what the parent hands the child, and the report it prints.

/** What one approach held before its first failure. */
export interface CapacityApproach {
  /** 'local-address' (Node's net.connect({ localAddress })) or 'agent' (safebind/agent's connector). */
  approach: 'local-address' | 'agent';
  /** A short label for tables and the chart: 'localAddress', 'agent, 2 sources'… */
  label: string;
  /** The source addresses it used. */
  sources: string[];
  /** The destinations it connected to, in turn. */
  destinations: string[];
  /** Concurrent connections open when the first connect failed. */
  held: number;
  /** The same, per destination. */
  perDestination: Record<string, number>;
  /** What the pool arithmetic gives: pool × pools available (per source and destination for the agent). */
  expected: number;
  /** The first failure (the approach stops there); absent when the cap was reached first. */
  firstFailure?: { syscall: string; code: string; message: string; cause?: string };
}

export interface CapacityReport {
  mode: 'capacity';
  /** Ports in the namespace's ip_local_port_range. */
  pool: number;
  range: [number, number];
  sources: string[];
  destinations: string[];
  approaches: CapacityApproach[];
  durationMs: number;
}

/** What the parent hands the child: the pool and the sources. Nothing about where it runs. */
export interface CapacityPlan {
  pool: number;
  sources: string[];
}
