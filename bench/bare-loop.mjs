// The baseline every node-mode churn figure is a ratio against: a bare `net.connect` + `destroy`
// (or `resetAndDestroy` with linger0) loop, one connection at a time, to 127.0.0.1:port; and the
// listener both run against.
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

/** Resolves the loop's connects per second over `seconds`. */
export function bareConnectLoop(port, seconds, linger0) {
  return new Promise((resolve) => {
    let n = 0;
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    const one = () => {
      if (performance.now() >= end) return resolve(n / ((performance.now() - t0) / 1000));
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        n++;
        if (linger0) s.resetAndDestroy();
        else s.destroy();
        one();
      });
      s.once('error', () => one());
    };
    one();
  });
}

/**
 * The shared listener every churn figure runs against: the addon's listener thread on 127.0.0.1, the
 * same one `bench churn` starts for itself. Returns the addon, the listener's id and its port.
 */
export function startAddonListener() {
  const here = dirname(fileURLToPath(import.meta.url));
  const addon = createRequire(import.meta.url)(join(here, '..', 'build', 'Release', 'safebind.node'));
  const id = addon.churnListen(
    { family: addon.constants.AF_INET, address: '127.0.0.1', port: 0, scopeId: 0 },
    65535,
  );
  if (id < 0) throw new Error(`churnListen failed: ${id}`);
  return { addon, id, port: addon.churnListenerStats(id).port };
}
