// The addon's namespace reader (netnsRead): bad arguments throw TypeError before any thread starts;
// a path that does not open, or is not a network namespace, comes back as data (openRc, setnsRc),
// and no descriptor is left behind on any path; what it reads of the caller's own namespace is what
// sock_diag counts from the main thread.
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadBinding, type NativeBinding } from '../../lib/binding.js';
import { prepareDests } from '../../lib/host/netns.js';
import { netnsIt } from '../helpers/netns.js';
import { unmet } from '../helpers/prerequisite.js';

function addon(ctx: Parameters<typeof unmet>[0]): NativeBinding {
  const load = loadBinding();
  if (!load.ok) unmet(ctx, load.reason);
  return load.binding;
}

const fds = () => readdirSync('/proc/self/fd').length;
const none = new Uint8Array(0);

describe('netnsRead', () => {
  it('refuses malformed queries with TypeError', (ctx) => {
    const b = addon(ctx);
    const bad: unknown[] = [
      undefined,
      {},
      { path: '', dests: none, top: 0, files: [] },
      { path: '/proc/self/ns/net', dests: [], top: 0, files: [] },
      { path: '/proc/self/ns/net', dests: new Uint8Array(18), top: 0, files: [] },
      { path: '/proc/self/ns/net', dests: new Uint8Array(19).fill(5), top: 0, files: [] },
      { path: '/proc/self/ns/net', dests: new Uint16Array(19), top: 0, files: [] },
      { path: '/proc/self/ns/net', dests: none, top: -1, files: [] },
      { path: '/proc/self/ns/net', dests: none, top: 1.5, files: [] },
      { path: '/proc/self/ns/net', dests: none, top: 0, files: [7] },
    ];
    for (const q of bad)
      expect(() => (b.netnsRead as (q: unknown) => unknown)(q), JSON.stringify(q)).toThrow(TypeError);
  });

  it('a missing file and a file that is no namespace come back as errno data, with no descriptor left open', async (ctx) => {
    const b = addon(ctx);
    const before = fds();
    for (let i = 0; i < 50; i++) {
      const missing = await b.netnsRead({ path: '/nonexistent/ns', dests: none, top: 1, files: [] });
      expect(missing).toMatchObject({ openRc: -2, inode: 0 });
      const notNs = await b.netnsRead({ path: '/proc/self/cgroup', dests: none, top: 1, files: [] });
      expect(notNs).toMatchObject({ openRc: 0, setnsRc: -22 });
      const ok = await b.netnsRead({
        path: '/proc/self/ns/net',
        dests: none,
        top: 1,
        files: ['/nonexistent'],
      });
      expect(typeof ok === 'object' && ok.files[0]?.rc).toBe(-2);
    }
    expect(fds()).toBe(before);
  });

  netnsIt(
    "reads the caller's namespace as sock_diag sees it from the main thread, asked destinations included",
    async (_ns, ctx) => {
      const b = addon(ctx);
      const server = net.createServer().listen(7100, '127.0.0.1');
      await new Promise((ok) => server.once('listening', ok));
      const clients = await Promise.all(
        Array.from(
          { length: 5 },
          () =>
            new Promise<net.Socket>((ok) => {
              const c = net.connect(7100, '127.0.0.1', () => ok(c));
            }),
        ),
      );
      try {
        const dests = prepareDests([
          { host: '127.0.0.1', port: 7100, label: '127.0.0.1:7100' },
          { host: '::ffff:127.0.0.1', port: 7100, label: 'mapped' },
        ]);
        const r = await b.netnsRead({ path: '/proc/self/ns/net', dests: dests.packed, top: 3, files: [] });
        if (typeof r === 'number') throw new Error(`errno ${r}`);
        const counts = b.socketCounts({ protocol: 6, family: 0, states: 0 });
        expect(r.states).toEqual(counts);
        // Both spellings of the destination count the 5 client sockets (a v4-mapped one is IPv4).
        expect([r.dests[0], r.dests[17]]).toEqual([5, 5]);
        // Asked destinations are not repeated among the busiest; the server's side is not outbound.
        expect(r.top).toEqual([]);
      } finally {
        for (const c of clients) c.destroy();
        server.close();
      }
    },
  );
});
