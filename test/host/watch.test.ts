// watchAddresses calls back after an address is added, and closing it leaves no descriptor behind.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchAddresses } from '../../lib/host/watch.js';
import { netnsIt } from '../helpers/netns.js';
import { fdCount } from './tables.js';

describe('watchAddresses', () => {
  netnsIt('fires after ip addr add, and close() releases its socket (twice is harmless)', async (ns) => {
    const before = fdCount();
    let calls = 0;
    let wake: () => void = () => {};
    const fired = new Promise<void>((resolve) => (wake = resolve));
    const w = watchAddresses(() => {
      calls++;
      wake();
    });
    if (!w.ok) throw new Error(w.error.message);
    expect(fdCount()).toBe(before + 1);
    ns.run('ip addr add 10.66.0.1/24 dev lo');
    await Promise.race([fired, new Promise((r) => setTimeout(r, 2000))]);
    expect(calls).toBeGreaterThanOrEqual(1);
    w.value.close();
    w.value.close();
    await new Promise((r) => setImmediate(r));
    expect(fdCount()).toBe(before);
  });

  netnsIt('a burst of changes is coalesced into few callbacks', async (ns) => {
    let calls = 0;
    const w = watchAddresses(() => calls++);
    if (!w.ok) throw new Error(w.error.message);
    ns.sh('for i in 1 2 3 4 5 6 7 8 9 10; do ip addr add 10.67.0.$i/32 dev lo; done');
    await new Promise((r) => setTimeout(r, 200));
    w.value.close();
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThan(10);
  });

  netnsIt('a callback that closes its own watch ends it cleanly and lets the process exit', () => {
    // The close happens inside the native callback, while the async context it runs in is in use.
    const addon = resolve(process.env.SAFEBIND_ADDON ?? 'build/Release/safebind.node');
    const script = `
      const b = require(${JSON.stringify(addon)});
      let calls = 0;
      const w = b.watchAddresses(() => { calls++; w.close(); w.close(); });
      require('node:child_process').execFileSync('ip', ['addr', 'add', '10.68.0.1/32', 'dev', 'lo']);
      process.on('exit', () => console.log('calls ' + calls));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('calls 1');
  });

  it('a worker that exits with a watch open, or one still closing, tears down cleanly', () => {
    // libuv runs the close callback after the environment's cleanup: the addon must still be loaded then.
    const addon = resolve(process.env.SAFEBIND_ADDON ?? 'build/Release/safebind.node');
    const script = `
      const { Worker } = require('node:worker_threads');
      const code = \`const b = require(\${JSON.stringify(${JSON.stringify(addon)})});
        b.watchAddresses(() => {}); b.watchAddresses(() => {}).close();
        require('node:worker_threads').parentPort.postMessage(1);\`;
      (async () => {
        for (let i = 0; i < 10; i++) {
          const w = new Worker(code, { eval: true });
          await new Promise((r) => w.once('message', r));
          await w.terminate();
        }
        console.log('done');
      })();`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('done');
  });
});
