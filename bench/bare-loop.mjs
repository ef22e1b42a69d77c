// The baseline every node-mode churn figure is a ratio against: a bare `net.connect` + `destroy`
// (or `resetAndDestroy` with linger0) loop, one connection at a time, to 127.0.0.1:port.
import net from 'node:net';
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
