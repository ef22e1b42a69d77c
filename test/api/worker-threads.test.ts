// safeBind works in worker threads (the addon is context-aware): three workers bind at once, join
// one SO_REUSEPORT group together, and get diagnoses of their own.
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect } from 'vitest';
import { netnsIt } from '../helpers/netns.js';
import { fdCount } from './helpers.js';

const entry = fileURLToPath(new URL('./fixtures/safe-bind-worker.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

interface Reply {
  distinctPorts: number;
  shared: { port: number; fd: number } | string;
  missingCause: string;
}

describe('safeBind in worker threads', () => {
  netnsIt('three workers bind at once, share a reusePort port, and leave no descriptor behind', async () => {
    // The worker runs the built package: `npm test` builds it first (npm run build:ts).
    expect(existsSync(dist), `${dist} is missing: run npm run build:ts`).toBe(true);
    const before = fdCount();
    const sharedPort = 18500;
    const workers = [0, 1, 2].map(() => new Worker(entry, { workerData: { rounds: 200, sharedPort } }));
    try {
      const replies = (await Promise.all(workers.map((w) => once(w, 'message')))).map(([r]) => r as Reply);
      for (const r of replies) {
        expect(r.distinctPorts).toBeGreaterThan(1);
        expect(r.shared).toMatchObject({ port: sharedPort });
        expect(r.missingCause).toBe('address-not-local');
      }
      // Three live sockets on one port, one per worker, all in this process.
      const fds = replies.map((r) => (typeof r.shared === 'string' ? -1 : r.shared.fd));
      expect(new Set(fds).size).toBe(3);
      const exits = workers.map((w) => once(w, 'exit'));
      for (const w of workers) w.postMessage('close');
      expect((await Promise.all(exits)).map(([code]) => code)).toEqual([0, 0, 0]);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
    expect(fdCount()).toBe(before);
  });
});
