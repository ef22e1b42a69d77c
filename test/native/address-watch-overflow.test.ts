// An address watch keeps working after its netlink socket overflowed: a burst larger than the
// receive queue makes the socket report an error (POLLERR, ENOBUFS), on which libuv stops the poll.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { loadBinding } from '../../lib/binding.js';
import { netnsIt } from '../helpers/netns.js';
import { tempDir } from '../helpers/temp-dir.js';

const waitFor = async (test: () => boolean, ms: number) => {
  const until = Date.now() + ms;
  while (!test() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
};

describe('address watch after an overflow', () => {
  netnsIt('still calls back for a change made after a burst that overflowed its queue', async (ns) => {
    const load = loadBinding();
    if (!load.ok) throw new Error(load.reason);
    ns.run('ip link add sbw0 type veth peer name sbw1');
    let calls = 0;
    const w = load.binding.watchAddresses(() => calls++);
    if (typeof w === 'number') throw new Error(`watchAddresses: ${w}`);
    try {
      // 3000 additions while this thread is blocked in execFileSync and cannot read: far more than
      // the socket's default receive queue (about 200 KiB) holds.
      const dir = tempDir('safebind-watch-');
      const batch = join(dir, 'batch');
      const lines: string[] = [];
      for (let i = 0; i < 3000; i++) lines.push(`addr add 10.77.${i >> 8}.${i & 255}/32 dev sbw0`);
      writeFileSync(batch, lines.join('\n') + '\n');
      execFileSync('ip', ['-batch', batch]);
      await waitFor(() => calls > 0, 2000);
      expect(calls).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 100));
      const before = calls;
      ns.run('ip addr add 10.78.0.1/32 dev sbw0');
      await waitFor(() => calls > before, 2000);
      expect(calls).toBeGreaterThan(before);
    } finally {
      w.close();
    }
  });
});
