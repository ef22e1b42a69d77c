// Connections toward one destination from several source addresses, as an agent with `sources`
// makes them: each with IP_BIND_ADDRESS_NO_PORT, so each source fills a pool of its own.
import { onTestFinished } from 'vitest';
import { safeConnect } from '../../lib/index.js';

/** Opens `n` connections to 127.0.0.1:`port` from each [source, n]; destroyed when the test ends. */
export async function connectFromSources(
  port: number,
  counts: ReadonlyArray<readonly [source: string, n: number]>,
): Promise<void> {
  for (const [source, n] of counts) {
    for (let i = 0; i < n; i++) {
      const r = await safeConnect({ host: '127.0.0.1', port, localAddress: source, bindAddressNoPort: true });
      if (!r.ok) throw new Error(r.diagnosis.summary);
      onTestFinished(() => {
        r.socket.destroy();
      });
    }
  }
}
