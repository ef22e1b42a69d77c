// When a neighbour-table entry means that another host answers for its address: the one rule the
// host reader's probe and the address-on-other-host decision share.

/** The NUD states in which the entry's link-layer address answered (or was set by hand). */
const ANSWERED: ReadonlySet<string> = new Set(['reachable', 'stale', 'delay', 'probe', 'permanent']);

/**
 * Whether another host answered for the entry's address: it holds a link-layer address in a state
 * that has one (reachable, stale, delay, probe, permanent) — not incomplete, failed or noarp.
 */
export function neighbourAnswered(n: { state: string; lladdr?: string }): boolean {
  return ANSWERED.has(n.state) && n.lladdr !== undefined;
}
