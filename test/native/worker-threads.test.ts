// The addon is context-aware: three worker threads load it at the same time as the main thread,
// each binds a socket, and all of them exit cleanly.
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect } from 'vitest';
import { loadBinding } from '../../lib/binding.js';
import { netnsIt } from '../helpers/netns.js';

const entry = fileURLToPath(new URL('./fixtures/bind-in-worker.mjs', import.meta.url));

describe('worker threads', () => {
  netnsIt('three workers load the addon and bind 127.0.0.1:0 at once, on three distinct ports', async () => {
    expect(loadBinding().ok).toBe(true);
    const workers = [0, 1, 2].map(() => new Worker(entry));
    try {
      const replies = await Promise.all(
        workers.map((w) => once(w, 'message') as Promise<[{ port: number; address: string }]>),
      );
      const ports = replies.map(([r]) => r.port);
      expect(replies.map(([r]) => r.address)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
      for (const port of ports) expect(port).toBeGreaterThan(0);
      expect(new Set(ports).size).toBe(3);
      const exits = workers.map((w) => once(w, 'exit') as Promise<[number]>);
      for (const w of workers) w.postMessage('close');
      expect((await Promise.all(exits)).map(([code]) => code)).toEqual([0, 0, 0]);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
});
