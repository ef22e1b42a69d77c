// The ground truth the socket-table tests compare with: what `ss` counts.
import type { Netns } from './netns.js';

/** TCP sockets of the namespace (every state but LISTEN) by peer `address:port`, as ss counts them. */
export function ssByPeer(ns: Netns): Map<string, number> {
  const out = new Map<string, number>();
  const text = ns.sh(`ss -Htan | awk '$1 != "LISTEN" { print $5 }' | sort | uniq -c`);
  for (const line of text.trim().split('\n')) {
    const [n, peer] = line.trim().split(/\s+/);
    if (peer) out.set(peer, Number(n));
  }
  return out;
}
