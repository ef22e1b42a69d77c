// portUsage() counts what `ss -H… dst …` counts on the same real socket table — established and
// TIME_WAIT, IPv4, IPv6 and v4-mapped, TCP and UDP — and refuses bad input without crashing.
import dgram from 'node:dgram';
import net from 'node:net';
import { expect, onTestFinished } from 'vitest';
import { forecast, inspectHost, portUsage, PortUsageError } from '../../lib/index.js';
import { connectFromSources } from '../helpers/sources.js';
import { netnsIt, type Netns } from '../helpers/netns.js';
import { eachReader } from '../helpers/readers.js';

/** ss state names as the kernel names them (what PortUsage.byState uses). */
const SS_STATE: Record<string, string> = {
  ESTAB: 'ESTABLISHED',
  'TIME-WAIT': 'TIME_WAIT',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  UNCONN: 'CLOSE',
};

/** `ss -H <args>` counted by state; TCP states renamed as the kernel names them, UDP's kept as ss prints them. */
function ssCounts(ns: Netns, args: string): Record<string, number> {
  const counts: Record<string, number> = {};
  const udp = /^-u/.test(args);
  for (const line of ns.sh(`ss -H ${args}`).split('\n')) {
    const state = line.trim().split(/\s+/)[0];
    if (!state) continue;
    const name = udp ? state : (SS_STATE[state] ?? state);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

async function listen(port: number, host: string): Promise<void> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => {
    s.on('error', () => {});
    accepted.push(s);
  });
  await new Promise<void>((ok) => server.listen(port, host, ok));
  onTestFinished(() => {
    for (const s of accepted) s.destroy();
    server.close();
  });
}

async function open(port: number, host: string): Promise<net.Socket> {
  const s = await new Promise<net.Socket>((ok, fail) => {
    const c = net.connect({ port, host }, () => ok(c));
    c.once('error', fail);
  });
  onTestFinished(() => {
    s.destroy();
  });
  return s;
}

/** A connection the client closes first: its side stays in TIME_WAIT. */
async function timeWait(port: number, host: string): Promise<void> {
  const s = await open(port, host);
  await new Promise<void>((ok) => {
    s.once('close', () => ok());
    s.end();
  });
}

async function settle(read: () => number, want: number): Promise<void> {
  const end = Date.now() + 3000;
  while (read() !== want && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

eachReader('portUsage() against ss on the same table', () => {
  netnsIt(
    'portUsage toward 127.0.0.1:7001 equals ss -Htan dst 127.0.0.1:7001, TIME_WAIT and v4-mapped clients included',
    async (ns) => {
      await listen(7001, '::');
      await listen(7002, '127.0.0.1');
      for (let i = 0; i < 6; i++) await open(7001, '127.0.0.1');
      await open(7001, '::ffff:127.0.0.1');
      for (let i = 0; i < 4; i++) await timeWait(7001, '127.0.0.1');
      for (let i = 0; i < 3; i++) await open(7002, '127.0.0.1');
      await settle(() => ssCounts(ns, "-tan 'dst 127.0.0.1:7001'").TIME_WAIT ?? 0, 4);

      const want = ssCounts(ns, "-tan 'dst 127.0.0.1:7001'");
      const got = await portUsage({ host: '127.0.0.1', port: 7001 });
      expect(got.byState).toEqual(want);
      expect(got.byState).toEqual({ ESTABLISHED: 7, TIME_WAIT: 4 });
      expect(got.inUse).toBe(total(want));
      expect(got.destination).toBe('127.0.0.1:7001');
      const [lo, hi] = ns.run('sysctl -n net.ipv4.ip_local_port_range').trim().split(/\s+/).map(Number);
      expect(got.range).toEqual([lo, hi]);
      expect(got.usage).toBeCloseTo(11 / got.poolSize);

      // The other destination is counted on its own.
      const other = await portUsage({ host: '127.0.0.1', port: 7002 });
      expect(other.byState).toEqual(ssCounts(ns, "-tan 'dst 127.0.0.1:7002'"));
      expect(other.inUse).toBe(3);
    },
  );

  netnsIt('portUsage toward [::1]:7003 equals ss -Htan dst [::1]:7003', async (ns) => {
    await listen(7003, '::1');
    for (let i = 0; i < 5; i++) await open(7003, '::1');
    for (let i = 0; i < 2; i++) await timeWait(7003, '::1');
    await settle(() => ssCounts(ns, "-tan 'dst [::1]:7003'").TIME_WAIT ?? 0, 2);

    const want = ssCounts(ns, "-tan 'dst [::1]:7003'");
    const got = await portUsage({ host: '::1', port: 7003 });
    expect(got.byState).toEqual(want);
    expect(want).toEqual({ ESTABLISHED: 5, TIME_WAIT: 2 });
    expect(got.destination).toBe('[::1]:7003');
  });

  netnsIt('portUsage for UDP counts connected sockets as ss -Huan dst does', async (ns) => {
    const sockets: dgram.Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((ok) => s.connect(5300, '127.0.0.1', () => ok()));
      sockets.push(s);
    }
    onTestFinished(() => {
      for (const s of sockets) s.close();
    });
    const want = ssCounts(ns, "-uan 'dst 127.0.0.1:5300'");
    const got = await portUsage({ host: '127.0.0.1', port: 5300, protocol: 'udp' });
    expect(want).toEqual({ ESTAB: 3 });
    expect(got.byState).toEqual(want);
    expect(got.inUse).toBe(3);
    expect(got.protocol).toBe('udp');
  });

  netnsIt('portUsage takes a host name and resolves it', async () => {
    await listen(7004, '127.0.0.1');
    await open(7004, '127.0.0.1');
    const got = await portUsage({ host: 'localhost', port: 7004 });
    expect(got.inUse).toBe(1);
  });

  netnsIt(
    'portUsage refuses an unusable address or port with invalid-address, a wrong type with TypeError',
    async () => {
      await expect(portUsage({ host: '127.0.0.1', port: 70000 })).rejects.toMatchObject({
        name: 'PortUsageError',
        code: 'invalid-address',
      });
      await expect(portUsage({ host: '300.1.1.1', port: 80 })).rejects.toBeInstanceOf(PortUsageError);
      await expect(portUsage({ host: 42 as unknown as string, port: 80 })).rejects.toThrow(TypeError);
    },
  );
});

// Each source address has a pool of its own toward a destination (connect picks the source, then a
// port free for that 4-tuple): connections from two sources are two pools, not one summed.
netnsIt(
  "connections from two source addresses are two pools: the figures are the fullest source's, each source listed",
  async (ns) => {
    ns.sysctl('net.ipv4.ip_local_port_range', '40000 40009');
    await listen(7100, '127.0.0.1');
    await connectFromSources(7100, [
      ['127.0.0.2', 6],
      ['127.0.0.3', 5],
    ]);
    // 11 connections toward a destination whose pool is 10 ports: each source holds its own.
    expect(total(ssCounts(ns, '-tn state established dst 127.0.0.1:7100'))).toBe(11);
    const u = await portUsage({ host: '127.0.0.1', port: 7100 });
    expect(u).toMatchObject({
      inUse: 6,
      poolSize: 10,
      usage: 0.6,
      localAddress: '127.0.0.2',
      sources: [
        { address: '127.0.0.2', inUse: 6 },
        { address: '127.0.0.3', inUse: 5 },
      ],
    });
    // The busiest destinations of inspectHost (and doctor) read the same pools.
    const report = await inspectHost();
    expect(report.sockets.topDestinations.find((d) => d.destination === '127.0.0.1:7100')).toMatchObject({
      inUse: 6,
      localAddress: '127.0.0.2',
      sources: [
        { address: '127.0.0.2', inUse: 6 },
        { address: '127.0.0.3', inUse: 5 },
      ],
    });
    // forecast() samples the pool that fills first: the fullest source's connections alone.
    const f = await forecast({ host: '127.0.0.1', port: 7100, sampleMs: 100 });
    expect(f.usage).toMatchObject({ inUse: 6, localAddress: '127.0.0.2', usage: 0.6 });
    // The default source (127.0.0.1) has all ten of its own.
    const c = await open(7100, '127.0.0.1');
    expect(c.localPort).toBeGreaterThanOrEqual(40000);
  },
);
