// countSockets and readPortUsage count what `ss -Htan dst …` counts on a real table, and the pool
// is the port range less the reserved ports inside it.
import type net from 'node:net';
import { expect, onTestFinished } from 'vitest';
import { readPortUsage, topDestinations } from '../../lib/host/port-usage.js';
import { countSocketsFromProc } from '../../lib/host/proc-net.js';
import { countSockets, listSockets } from '../../lib/host/index.js';
import { netnsIt } from '../helpers/netns.js';
import { connect, listen, settle, ssCounts, timeWaits } from './tables.js';
import { eachReader } from '../helpers/readers.js';
import { closeSocket, openSocket } from '../../lib/sys/index.js';

async function table(): Promise<void> {
  const a = await listen(7001);
  const b = await listen(7002);
  const clients: net.Socket[] = [];
  for (let i = 0; i < 6; i++) clients.push(await connect(7001));
  // A v4-mapped IPv6 client toward 127.0.0.1 shares the IPv4 port space: it counts.
  clients.push(await connect(7001, '::ffff:127.0.0.1'));
  for (let i = 0; i < 3; i++) clients.push(await connect(7002));
  await timeWaits(7001, 4);
  await timeWaits(7002, 2);
  await settle(() => ssCounts('dst 127.0.0.1:7001').TIME_WAIT ?? 0, 4);
  onTestFinished(() => {
    for (const c of clients) c.destroy();
    a.close();
    b.close();
  });
}

eachReader('socket counts and port usage', (kind) => {
  netnsIt('countSockets toward one destination equals ss -Htan dst, by state', async () => {
    await table();
    const want = ssCounts('dst 127.0.0.1:7001');
    const got = countSockets({ remote: { address: '127.0.0.1', port: 7001 } });
    if (!got.ok) throw new Error(got.error.message);
    expect(got.value.byState).toEqual(want);
    expect(got.value.byState).toEqual({ ESTABLISHED: 7, TIME_WAIT: 4 });
    expect(got.value.via).toBe(kind === 'addon' ? 'sock_diag' : 'proc');
    // The whole table, and the /proc reader on the same table.
    const all = countSockets();
    if (!all.ok) throw new Error(all.error.message);
    expect(all.value.byState).toEqual(ssCounts(''));
    const proc = countSocketsFromProc({ remote: { address: '127.0.0.1', port: 7001 } });
    if (!proc.ok) throw new Error(proc.error.message);
    expect(proc.value.byState).toEqual(want);
    expect(proc.value.via).toBe('proc');
  });

  netnsIt('readPortUsage counts every state but LISTEN toward that exact destination', async (ns) => {
    await table();
    const r = readPortUsage({ host: '127.0.0.1', port: 7001 });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.inUse).toBe(11);
    expect(r.value.byState).toEqual(ssCounts('dst 127.0.0.1:7001'));
    expect(r.value.destination).toBe('127.0.0.1:7001');
    const other = readPortUsage({ host: '127.0.0.1', port: 7002 });
    if (!other.ok) throw new Error(other.error.message);
    expect(other.value.inUse).toBe(5);
    const [lo, hi] = ns.run('sysctl -n net.ipv4.ip_local_port_range').trim().split(/\s+/).map(Number);
    expect(r.value.range).toEqual([lo, hi]);
    expect(r.value.poolSize).toBe(hi! - lo! + 1);
    expect(r.value.usage).toBeCloseTo(11 / r.value.poolSize);
  });

  netnsIt('a 10-port range gives poolSize 10, and reserved ports inside it shrink it exactly', (ns) => {
    ns.sysctl('net.ipv4.ip_local_port_range', '40000 40009');
    const plain = readPortUsage({ host: '127.0.0.1', port: 80 });
    if (!plain.ok) throw new Error(plain.error.message);
    expect(plain.value).toMatchObject({
      range: [40000, 40009],
      reserved: 0,
      poolSize: 10,
      inUse: 0,
      usage: 0,
    });
    ns.sysctl('net.ipv4.ip_local_reserved_ports', '39990-40001,40005,50000');
    const reserved = readPortUsage({ host: '127.0.0.1', port: 80 });
    if (!reserved.ok) throw new Error(reserved.error.message);
    expect(reserved.value).toMatchObject({ reserved: 3, poolSize: 7 });
  });

  netnsIt('localAddress narrows the count to connections from that source', async (ns) => {
    ns.run('ip addr add 127.0.0.2/8 dev lo');
    const server = await listen(7003);
    const a = await connect(7003, '127.0.0.1', '127.0.0.2');
    const b = await connect(7003, '127.0.0.1');
    onTestFinished(() => {
      a.destroy();
      b.destroy();
      server.close();
    });
    const from2 = readPortUsage({ host: '127.0.0.1', port: 7003, localAddress: '127.0.0.2' });
    if (!from2.ok) throw new Error(from2.error.message);
    expect(from2.value.inUse).toBe(1);
    expect(from2.value.localAddress).toBe('127.0.0.2');
  });

  netnsIt(
    'topDestinations ranks the busiest destination first and leaves out inbound connections',
    async () => {
      await table();
      const top = topDestinations(3);
      if (!top.ok) throw new Error(top.error.message);
      expect(top.value[0]).toMatchObject({ destination: '127.0.0.1:7001', inUse: 11 });
      expect(top.value[1]).toMatchObject({ destination: '127.0.0.1:7002', inUse: 5 });
      // The listeners' accepted sockets point back at the clients' source ports: not destinations.
      expect(top.value).toHaveLength(2);
    },
  );

  netnsIt(
    'a socket only bound is no destination, and is not counted as ss -tan does not list it',
    async () => {
      await table();
      // bind(127.0.0.1, 0) and nothing more: Linux 6.5 and later (the test machines run 6.18) dump it
      // as BOUND_INACTIVE when asked.
      const bound = openSocket({
        family: 4,
        protocol: 'tcp',
        bind: { family: 4, address: '127.0.0.1', port: 0 },
      });
      if (!bound.ok) throw new Error(bound.error.message);
      onTestFinished(() => {
        closeSocket(bound.value);
      });
      if (kind === 'addon') {
        // It is there when asked for (reported in state CLOSE), so the tests below can fail.
        const asked = countSockets({ states: ['BOUND_INACTIVE'] });
        if (!asked.ok) throw new Error(asked.error.message);
        expect(asked.value.byState).toEqual({ CLOSE: 1 });
      }
      const top = topDestinations(5);
      if (!top.ok) throw new Error(top.error.message);
      expect(top.value.map((u) => u.destination)).toEqual(['127.0.0.1:7001', '127.0.0.1:7002']);
      const all = countSockets({ excludeStates: ['BOUND_INACTIVE'] });
      if (!all.ok) throw new Error(all.error.message);
      expect(all.value.byState).toEqual(ssCounts(''));
      expect(all.value.byState['CLOSE']).toBeUndefined();
    },
  );

  netnsIt('listSockets reports inode and uid, and truncates at the limit', async () => {
    await table();
    const r = listSockets({ states: ['ESTABLISHED'], remote: { port: 7001 } }, 3);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.sockets).toHaveLength(3);
    expect(r.value.truncated).toBe(true);
    for (const s of r.value.sockets) {
      expect(s.inode).toBeGreaterThan(0);
      expect(s.uid).toBe(process.getuid?.() ?? 0);
      expect(s.remotePort).toBe(7001);
    }
  });

  netnsIt('an unparseable destination is an EINVAL failure, not a throw', () => {
    const r = readPortUsage({ host: 'not-an-ip', port: 80 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('EINVAL');
  });
});
