// Timeouts longer than setTimeout's limit (2^31-1 ms, 24.8 days) are honoured: Node would fire them
// after 1 ms with a TimeoutOverflowWarning. Each entry point that takes a timeout is started with
// 2^31 ms toward something that cannot complete, is still pending well after 1 ms, then aborted.
import { describe, expect } from 'vitest';
import { preflight } from '../../lib/api/preflight.js';
import { safeBind } from '../../lib/api/safe-bind.js';
import { safeConnect } from '../../lib/api/safe-connect.js';
import { netnsIt } from '../helpers/netns.js';
import { fdCount, sleep } from './helpers.js';

// 2^32 rather than 2^31: preflight spends a millisecond before it waits, and 2^31 - 1 ms would fit.
const LONG = 2 ** 32;

/** Settles `start(signal)` only by abort: asserts it is pending after 50 ms with no timer warning. */
async function expectPendingUntilAborted(start: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const before = fdCount();
    const controller = new AbortController();
    let settled: unknown = 'pending';
    const pending = start(controller.signal).then(
      (value) => (settled = value),
      (e: unknown) => {
        settled = e;
        throw e;
      },
    );
    await sleep(50);
    expect(settled).toBe('pending');
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await sleep(10);
    expect(warnings.map((w) => w.name)).not.toContain('TimeoutOverflowWarning');
    expect(fdCount()).toBe(before);
  } finally {
    process.off('warning', onWarning);
  }
}

describe('timeouts beyond 2^31-1 ms', () => {
  netnsIt('safeBind waitForAddress of 2^32 ms on an absent address keeps waiting', async () => {
    await expectPendingUntilAborted((signal) =>
      safeBind({ host: '10.61.0.1', port: 80, waitForAddress: LONG, signal }),
    );
  });

  netnsIt('preflight wait of 2^32 ms keeps waiting for its bind target', async () => {
    await expectPendingUntilAborted((signal) => preflight({ bind: ['10.62.0.1:80'], wait: LONG, signal }));
  });

  netnsIt('safeConnect timeout of 2^32 ms does not cut a pending handshake short', async (ns) => {
    // A neighbour that never answers ARP: the connect stays pending for seconds.
    ns.run('ip link add sblt0 type veth peer name sblt1');
    ns.run('ip addr add 10.63.0.1/24 dev sblt0');
    ns.run('ip link set sblt0 up');
    ns.run('ip link set sblt1 up');
    await expectPendingUntilAborted((signal) =>
      safeConnect({ host: '10.63.0.2', port: 80, timeout: LONG, signal }),
    );
  });

  netnsIt('a probe timeout of 2^32 ms in preflight does not cut the probe short', async (ns) => {
    ns.run('ip link add sblt0 type veth peer name sblt1');
    ns.run('ip addr add 10.64.0.1/24 dev sblt0');
    ns.run('ip link set sblt0 up');
    ns.run('ip link set sblt1 up');
    await expectPendingUntilAborted((signal) =>
      preflight({ connect: [{ host: '10.64.0.2', port: 80, probe: true, timeout: LONG }], signal }),
    );
  });
});
