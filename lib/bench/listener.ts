// The run's own target when none is given: a listener thread in the addon (not on this event loop,
// where it would compete with `--mode node` for the one JS thread, and not a child process, whose
// accept count the tests could not read). It accepts at once with a backlog as big as the kernel
// allows, so the accept queue never hides exhaustion, and it closes each connection only after the
// client's FIN or RST, so the TIME_WAIT lands on the client's side as it does against real servers.
import { binding } from '../binding.js';
import { errnoResult } from '../sys/errors.js';
import type { Result } from '../types.js';

export interface OwnListener {
  address: string;
  port: number;
  family: 4 | 6;
  accepted(): number;
  /**
   * Waits (at most `ms`) until the listener has accepted `n` connections and closed all it holds;
   * resolves the accepted count.
   */
  settle(n: number, ms: number): Promise<number>;
  close(): void;
}

/** The backlog asked for; the kernel clamps it to net.core.somaxconn. */
const BACKLOG = 65535;

export function startOwnListener(family: 4 | 6 = 4, port = 0): Result<OwnListener> {
  const b = binding();
  const address = family === 6 ? '::1' : '127.0.0.1';
  const id = b.churnListen(
    { family: family === 6 ? b.constants.AF_INET6 : b.constants.AF_INET, address, port, scopeId: 0 },
    BACKLOG,
  );
  if (id < 0) return errnoResult('listen', id, { address, port });
  const stats = b.churnListenerStats(id);
  if (typeof stats === 'number') {
    b.churnListenerClose(id);
    return errnoResult('getsockname', stats);
  }
  const accepted = () => {
    const s = b.churnListenerStats(id);
    return typeof s === 'number' ? 0 : s.accepted;
  };
  return {
    ok: true,
    value: {
      address,
      port: stats.port,
      family,
      accepted,
      async settle(n, ms) {
        const until = Date.now() + ms;
        for (;;) {
          const st = b.churnListenerStats(id);
          if (typeof st === 'number') return 0;
          if ((st.accepted >= n && st.open === 0) || Date.now() >= until) return st.accepted;
          await new Promise((r) => setTimeout(r, 5));
        }
      },
      close() {
        b.churnListenerClose(id);
      },
    },
  };
}
