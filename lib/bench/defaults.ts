// The churn benchmark's defaults that the command line shows in its help. A module of constants
// only, so the CLI's command definitions can import it without loading the benchmark itself.

/** Ports in the rehearsal's ip_local_port_range when no pool is given. */
export const DEFAULT_POOL = 1000;
