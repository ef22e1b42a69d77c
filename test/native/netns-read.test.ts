// The addon's namespace reader (netnsRead): bad arguments throw TypeError before any thread starts;
// a path that does not open, or is not a network namespace, comes back as data (openRc, setnsRc),
// and no descriptor is left behind on any path; what it reads of the caller's own namespace is what
// sock_diag counts from the main thread.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadBinding, type NativeBinding } from '../../lib/binding.js';
import { prepareDests } from '../../lib/host/netns.js';
import { netnsIt } from '../helpers/netns.js';
import { ssByPeer } from '../helpers/ss-peers.js';
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
      { path: '/proc/self/ns/net', dests: none, top: 0, files: [], sinceMs: -1 },
      { path: '/proc/self/ns/net', dests: none, top: 0, files: [], sinceMs: NaN },
      { path: '/proc/self/ns/net', dests: none, top: 0, files: [], sinceMs: '5' },
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
        expect([r.dests[0], r.dests[78]]).toEqual([5, 5]);
        // Asked destinations are not repeated among the busiest; the server's side is not outbound.
        expect(r.top).toEqual([]);
      } finally {
        for (const c of clients) c.destroy();
        server.close();
      }
    },
  );

  netnsIt(
    'leaves out sockets only bound (BOUND_INACTIVE): no state count, no destination 0.0.0.0:0',
    async (_ns, ctx) => {
      const b = addon(ctx);
      const c = b.constants;
      const [CLOSE, ESTABLISHED] = [c.tcpStates['CLOSE']!, c.tcpStates['ESTABLISHED']!];
      const server = net.createServer().listen(7102, '127.0.0.1');
      await new Promise((ok) => server.once('listening', ok));
      const client = await new Promise<net.Socket>((ok) => {
        const s = net.connect(7102, '127.0.0.1', () => ok(s));
      });
      const fd = b.socket(c.AF_INET, c.SOCK_STREAM);
      try {
        expect(b.bind(fd, { family: c.AF_INET, address: '127.0.0.1', port: 0, scopeId: 0 })).toBe(0);
        // sock_diag shows it when asked for (in state CLOSE; BOUND_INACTIVE is Linux 6.5+, as the test
        // machines run), so the test can fail.
        const asked = b.socketCounts({ protocol: 6, family: 0, states: 1 << 13 });
        if (typeof asked === 'number') throw new Error(`errno ${asked}`);
        expect(asked[CLOSE]).toBe(1);
        const r = await b.netnsRead({ path: '/proc/self/ns/net', dests: none, top: 5, files: [] });
        if (typeof r === 'number') throw new Error(`errno ${r}`);
        expect(r.states[CLOSE]).toBe(0);
        expect(r.states[ESTABLISHED]).toBe(2);
        expect(r.top.map((g) => [g.address, g.port, g.total])).toEqual([['127.0.0.1', 7102, 1]]);
      } finally {
        b.close(fd);
        client.destroy();
        server.close();
      }
    },
  );

  netnsIt(
    'counts TIME_WAIT timers in 1-s buckets, and as fresh only those started after the walk at sinceMs',
    async (_ns, ctx) => {
      const b = addon(ctx);
      const server = net.createServer((s) => s.on('error', () => {})).listen(7101, '127.0.0.1');
      await new Promise((ok) => server.once('listening', ok));
      const dests = prepareDests([{ host: '127.0.0.1', port: 7101, label: '127.0.0.1:7101' }]);
      const read = async (sinceMs?: number) => {
        const r = await b.netnsRead({
          path: '/proc/self/ns/net',
          dests: dests.packed,
          top: 0,
          files: [],
          ...(sinceMs !== undefined ? { sinceMs } : {}),
        });
        if (typeof r === 'number') throw new Error(`errno ${r}`);
        return r;
      };
      try {
        const connect = () =>
          new Promise<void>((ok) => {
            // The client closes first: its side goes to TIME_WAIT once the server's FIN arrives.
            const c = net.connect(7101, '127.0.0.1', () => c.end());
            c.on('close', () => ok());
          });
        await Promise.all(Array.from({ length: 4 }, connect));
        // The timers are in jiffies (4 ms at HZ=250) and the walk's clock is CLOCK_MONOTONIC: a
        // socket closed within a tick or two of a walk's start may fall on either side, so each
        // phase is 50 ms clear of the walks around it.
        const settle = () => new Promise((ok) => setTimeout(ok, 50));
        await settle();
        const before = await read();
        await settle();
        await Promise.all(Array.from({ length: 3 }, connect));
        await settle();
        const after = await read(before.walkMs);
        const timers = (r: typeof after) => Array.from(r.dests.subarray(18, 78));
        const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
        // All 7 in TIME_WAIT (state 6), their timers just under 60 s: the top buckets.
        expect(after.dests[1 + 6]).toBe(7);
        expect(sum(timers(after))).toBe(7);
        expect(sum(timers(after).slice(0, 58))).toBe(0);
        // Without sinceMs every TIME_WAIT is fresh; with it, only the 3 closed since that walk.
        expect(before.dests[17]).toBe(4);
        expect(after.dests[17]).toBe(3);
        // Nothing closed since: none is fresh.
        await settle();
        const again = await read(after.walkMs);
        expect(again.dests[17]).toBe(0);
        expect(again.walkMs).toBeGreaterThan(after.walkMs);
      } finally {
        server.close();
      }
    },
  );
  netnsIt(
    'reads a table of many datagrams (received ahead on a second thread) exactly as ss counts it, on two CPUs and on one',
    async (ns, ctx) => {
      const b = addon(ctx);
      // 24,000 TIME_WAIT sockets toward 40 destinations (bench/tw_fill.c): about 70 datagrams, past
      // the 8 read in turn before the receiver thread starts.
      const dir = mkdtempSync(join(tmpdir(), 'safebind-tw-'));
      try {
        const fill = join(dir, 'tw_fill');
        execFileSync('cc', [
          '-O2',
          '-o',
          fill,
          fileURLToPath(new URL('../../bench/tw_fill.c', import.meta.url)),
        ]);
        ns.sysctl('net.ipv4.ip_local_port_range', '1024 65535');
        ns.sysctl('net.ipv4.tcp_tw_reuse', '0');
        ns.sysctl('net.ipv4.tcp_max_tw_buckets', '100000');
        ns.run(`${fill} 9000 40 600`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const dest = (d: number) => `127.0.${1 + Math.floor(d / 250)}.${1 + (d % 250)}`;
      const dests = prepareDests(
        Array.from({ length: 40 }, (_, d) => ({ host: dest(d), port: 9000, label: `${dest(d)}:9000` })),
      );
      const read = async () => {
        const r = await b.netnsRead({ path: '/proc/self/ns/net', dests: dests.packed, top: 5, files: [] });
        if (typeof r === 'number') throw new Error(`errno ${r}`);
        return Array.from({ length: 40 }, (_, d) => r.dests[d * 78]!);
      };
      const truth = ssByPeer(ns);
      const expected = Array.from({ length: 40 }, (_, d) => truth.get(`${dest(d)}:9000`) ?? 0);
      // ss is the truth compared with; the fill only has to be big (a rare reset loses a socket).
      expect(expected.reduce((a, n) => a + n, 0)).toBeGreaterThan(20_000);
      const before = fds();
      expect(await read()).toEqual(expected);
      // The receiver thread joined, the netlink socket closed.
      expect(fds()).toBe(before);
      // Every thread of this process on one CPU: the reader then reads and parses in turn.
      const pid = String(process.pid);
      // "pid 123's current affinity list: 0,1": restored as it was.
      const was = execFileSync('taskset', ['-c', '-p', pid], { encoding: 'utf8' }).split(':').pop()!.trim();
      execFileSync('taskset', ['-a', '-c', '-p', '0', pid], { stdio: 'ignore' });
      try {
        expect(await read()).toEqual(expected);
        expect(fds()).toBe(before);
      } finally {
        execFileSync('taskset', ['-a', '-c', '-p', was, pid], { stdio: 'ignore' });
      }
    },
    120_000,
  );
});
