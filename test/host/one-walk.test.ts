// A TCP socket query over both families is answered by one walk of the kernel's TCP tables (the
// legacy TCPDIAG_GETSOCK dump, family AF_UNSPEC); it must return exactly what the two per-family
// sock_diag dumps return, v4-mapped IPv6 sockets included.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, onTestFinished } from 'vitest';
import { loadBinding, type NativeBinding, type NativeSocketQuery } from '../../lib/binding.js';
import { netnsIt } from '../helpers/netns.js';
import { unmet } from '../helpers/prerequisite.js';
import { connect, listen, settle, ssCounts, timeWaits } from './tables.js';

function addon(): NativeBinding {
  const load = loadBinding();
  if (!load.ok) throw new Error(load.reason);
  return load.binding;
}

/** A listener that never closes its side, so a client's end() leaves FIN_WAIT2 / CLOSE_WAIT. */
async function halfOpenListener(port: number, host: string): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => s.on('error', () => {}));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, resolve);
  });
  return server;
}

// IPv4, IPv6 and v4-mapped sockets in LISTEN, ESTABLISHED, TIME_WAIT, FIN_WAIT2 and CLOSE_WAIT.
async function mixedTable(): Promise<void> {
  const v4 = await listen(7101, '127.0.0.1');
  const dual = await listen(7102, '::'); // accepts IPv4 clients as v4-mapped AF_INET6 sockets
  const v6 = await listen(7103, '::1');
  const half = await halfOpenListener(7104, '::');
  const clients: net.Socket[] = [];
  for (let i = 0; i < 3; i++) clients.push(await connect(7101, '127.0.0.1'));
  for (let i = 0; i < 2; i++) clients.push(await connect(7101, '::ffff:127.0.0.1'));
  for (let i = 0; i < 3; i++) clients.push(await connect(7102, '127.0.0.1'));
  for (let i = 0; i < 2; i++) clients.push(await connect(7102, '::1'));
  for (let i = 0; i < 2; i++) clients.push(await connect(7103, '::1'));
  await timeWaits(7101, 3, '127.0.0.1');
  await timeWaits(7102, 2, '127.0.0.1');
  await timeWaits(7103, 2, '::1');
  for (let i = 0; i < 2; i++) {
    const c = await connect(7104, i === 0 ? '127.0.0.1' : '::1');
    clients.push(c);
    c.end();
  }
  await settle(() => ssCounts('').FIN_WAIT2 ?? 0, 2);
  await settle(() => ssCounts('').TIME_WAIT ?? 0, 7);
  onTestFinished(() => {
    for (const c of clients) c.destroy();
    for (const s of [v4, dual, v6, half]) s.close();
  });
}

function key(s: { family: number; state: number; src: string; sport: number; dst: string; dport: number }) {
  return `${s.family} ${s.state} ${s.src}:${s.sport} ${s.dst}:${s.dport}`;
}

function counts(b: NativeBinding, q: NativeSocketQuery): number[] {
  const c = b.socketCounts(q);
  if (typeof c === 'number') throw new Error(`socketCounts errno ${-c}`);
  return c;
}

function list(b: NativeBinding, q: NativeSocketQuery) {
  const l = b.socketList(q, 100_000);
  if (typeof l === 'number') throw new Error(`socketList errno ${-l}`);
  return l;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const add = (a: number[], b: number[]) => a.map((x, i) => x + (b[i] ?? 0));

describe('one walk for both TCP families', () => {
  netnsIt('the AF_UNSPEC query returns exactly the AF_INET and AF_INET6 dumps together', async () => {
    await mixedTable();
    const b = addon();
    const C = b.constants;
    const base = {
      protocol: C.IPPROTO_TCP,
      states: 0,
      dst: { address: '', port: 0 },
      src: { address: '', port: 0 },
    };
    const both = { ...base, family: C.AF_UNSPEC };
    const v4 = { ...base, family: C.AF_INET };
    const v6 = { ...base, family: C.AF_INET6 };

    const c = counts(b, both);
    expect(c).toEqual(add(counts(b, v4), counts(b, v6)));
    const S = C.tcpStates;
    for (const state of ['LISTEN', 'ESTABLISHED', 'TIME_WAIT', 'FIN_WAIT2', 'CLOSE_WAIT']) {
      expect(c[S[state]!], state).toBeGreaterThan(0);
    }

    const all = list(b, both);
    const perFamily = [...list(b, v4), ...list(b, v6)];
    expect(all.map(key).sort()).toEqual(perFamily.map(key).sort());
    expect(all.length).toBe(sum(c));
    // inode and uid come through the one walk as through the per-family dumps.
    const byKey = new Map(perFamily.map((s) => [key(s), s]));
    for (const s of all) expect([s.inode, s.uid]).toEqual([byKey.get(key(s))?.inode, byKey.get(key(s))?.uid]);
    expect(all.some((s) => s.family === C.AF_INET6 && s.dst.startsWith('::ffff:'))).toBe(true);
    expect(all.some((s) => s.family === C.AF_INET6 && s.dst === '::1')).toBe(true);
    expect(all.some((s) => s.family === C.AF_INET)).toBe(true);

    // Ports in the id and states still filter the one walk.
    const port = { ...both, states: 1 << S.ESTABLISHED!, dst: { address: '', port: 7102 } };
    expect(counts(b, port)).toEqual(
      add(counts(b, { ...port, family: C.AF_INET }), counts(b, { ...port, family: C.AF_INET6 })),
    );
    expect(counts(b, port)[S.ESTABLISHED!]).toBe(5);
  });

  netnsIt('an IPv4 destination matches its v4-mapped IPv6 sockets in the one walk, as ss does', async () => {
    await mixedTable();
    const b = addon();
    const C = b.constants;
    const S = C.tcpStates;
    for (const port of [7101, 7102]) {
      const q = {
        protocol: C.IPPROTO_TCP,
        family: C.AF_UNSPEC,
        states: ~(1 << S.LISTEN!) >>> 0,
        dst: { address: '127.0.0.1', port },
        src: { address: '', port: 0 },
      };
      const one = list(b, q);
      // The same sockets from the per-family dumps: IPv4 ones filtered here, v4-mapped ones by the
      // AF_INET6 dump's own bytecode (an AF_INET6 query with an IPv4 address walks only that family).
      const v4 = list(b, { ...q, family: C.AF_INET, dst: { address: '', port } }).filter(
        (s) => s.dst === '127.0.0.1',
      );
      const mapped = list(b, { ...q, family: C.AF_INET6 });
      expect(mapped.every((s) => s.dst === '::ffff:127.0.0.1')).toBe(true);
      expect(one.map(key).sort()).toEqual([...v4, ...mapped].map(key).sort());
      const byState: Record<string, number> = {};
      const names = Object.fromEntries(Object.entries(S).map(([n, v]) => [v, n]));
      counts(b, q).forEach((n, state) => {
        if (n > 0) byState[names[state] ?? String(state)] = n;
      });
      expect(byState).toEqual(ssCounts(`dst 127.0.0.1:${port}`));
    }
    // The v4-mapped clients of the first destination are there, as AF_INET6 sockets.
    const q7101 = {
      protocol: C.IPPROTO_TCP,
      family: C.AF_UNSPEC,
      states: 0,
      dst: { address: '127.0.0.1', port: 7101 },
    };
    expect(
      list(b, { ...q7101, src: { address: '', port: 0 } }).filter((s) => s.family === C.AF_INET6),
    ).toHaveLength(2);
  });

  netnsIt('the AF_UNSPEC TCP query sends one TCPDIAG_GETSOCK dump, UDP still two v2 dumps', (_ns, ctx) => {
    if (spawnSync('strace', ['-V']).status !== 0) unmet(ctx, 'strace is not installed');
    const script = `
      const b = require(${JSON.stringify(join(process.cwd(), 'build', 'Release', 'safebind.node'))});
      const C = b.constants, any = { address: '', port: 0 };
      for (const protocol of [C.IPPROTO_TCP, C.IPPROTO_UDP]) {
        process.stderr.write('--- ' + protocol + '\\n');
        b.socketCounts({ protocol, family: C.AF_UNSPEC, states: 0, dst: any, src: any });
      }`;
    const r = spawnSync(
      'strace',
      ['-e', 'trace=sendto', '-e', 'signal=none', process.execPath, '-e', script],
      {
        encoding: 'utf8',
      },
    );
    if (r.status !== 0 && /ptrace|Operation not permitted/.test(r.stderr))
      unmet(ctx, 'strace cannot trace here');
    const [, tcp = '', udp = ''] = r.stderr.split(/^--- \d+$/m);
    const requests = (text: string) => text.split('\n').filter((l) => /sendto\(.*nlmsg_type=/.test(l));
    expect(requests(tcp)).toHaveLength(1);
    expect(requests(tcp)[0]).toContain('nlmsg_type=TCPDIAG_GETSOCK');
    expect(requests(udp)).toHaveLength(2);
    expect(requests(udp).every((l) => l.includes('nlmsg_type=SOCK_DIAG_BY_FAMILY'))).toBe(true);
  });
});
