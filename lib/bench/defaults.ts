// The churn benchmark's defaults that the command line shows in its help. A module of constants
// only, so the CLI's command definitions can import it without loading the benchmark itself.

/** Ports in the rehearsal's ip_local_port_range when no pool is given. */
export const DEFAULT_POOL = 1000;

/**
 * The largest pool `bench capacity` takes: each held connection costs two descriptors (client and
 * accepted), four sources hold 4 × pool, and the open-files hard limit here is 20,000.
 */
export const MAX_CAPACITY_POOL = 2000;
