// safeConnect() connects from a chosen source with the options Node lacks, resolves a net.Socket that
// reads and writes, and explains each way a connect fails — with nothing left open.
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { safeConnect, type ConnectOptions } from '../../lib/api/safe-connect.js';
import type { PortUsage } from '../../lib/types.js';
import { netnsIt, type Netns } from '../helpers/netns.js';
import { echoServer, fdCount, roundTrip, sleep } from './helpers.js';

/** A link whose subnet has no other host: SYNs toward .2 wait for an ARP answer that never comes. */
function silentSubnet(ns: Netns): string {
  ns.run('ip link add sbc0 type veth peer name sbc1');
  ns.run('ip link set sbc0 up');
  ns.run('ip link set sbc1 up');
  ns.run('ip addr add 10.90.0.1/24 dev sbc0');
  return '10.90.0.2';
}

describe('safeConnect', () => {
  netnsIt('connects and the net.Socket reads and writes', async () => {
    const server = await echoServer(15000);
    const result = await safeConnect({ host: '127.0.0.1', port: 15000 });
    if (!result.ok) throw new Error(result.diagnosis.summary);
    const socket = result.socket;
    expect(socket.remoteAddress).toBe('127.0.0.1');
    expect(socket.remotePort).toBe(15000);
    expect(await roundTrip(socket, 'hello')).toBe('hello');
    socket.destroy();
    expect(server.listening).toBe(true);
  });

  netnsIt(
    'with a local address and port 0, bindAddressNoPort lets one source port serve two destinations',
    async (ns) => {
      ns.sysctl('net.ipv4.ip_local_port_range', '40000 40000');
      await echoServer(15001);
      await echoServer(15002);
      const a = await safeConnect({ host: '127.0.0.1', port: 15001, localAddress: '127.0.0.2' });
      const b = await safeConnect({ host: '127.0.0.1', port: 15002, localAddress: '127.0.0.2' });
      if (!a.ok) throw new Error(a.diagnosis.summary);
      if (!b.ok) throw new Error(b.diagnosis.summary);
      // One port in the pool, two connections: the port was chosen per 4-tuple at connect time.
      expect([a.socket.localAddress, a.socket.localPort]).toEqual(['127.0.0.2', 40000]);
      expect([b.socket.localAddress, b.socket.localPort]).toEqual(['127.0.0.2', 40000]);
      expect(await roundTrip(a.socket, 'to one')).toBe('to one');
      expect(await roundTrip(b.socket, 'to two')).toBe('to two');
      a.socket.destroy();
      b.socket.destroy();
    },
  );

  netnsIt(
    'without bindAddressNoPort the bind takes the only port and the second connect fails at bind',
    async (ns) => {
      ns.sysctl('net.ipv4.ip_local_port_range', '40000 40000');
      await echoServer(15003);
      await echoServer(15004);
      const a = await safeConnect({
        host: '127.0.0.1',
        port: 15003,
        localAddress: '127.0.0.2',
        bindAddressNoPort: false,
      });
      if (!a.ok) throw new Error(a.diagnosis.summary);
      const b = await safeConnect({
        host: '127.0.0.1',
        port: 15004,
        localAddress: '127.0.0.2',
        bindAddressNoPort: false,
      });
      expect(b.ok).toBe(false);
      if (!b.ok) expect(b.error).toMatchObject({ syscall: 'bind', code: 'EADDRINUSE' });
      a.socket.destroy();
    },
  );

  netnsIt(
    'a source address on no interface fails with source-not-local and leaves nothing open',
    async () => {
      await echoServer(15005);
      const before = fdCount();
      const result = await safeConnect({ host: '127.0.0.1', port: 15005, localAddress: '10.66.0.1' });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error).toMatchObject({ syscall: 'bind', code: 'EADDRNOTAVAIL' });
      expect(result.diagnosis.cause).toBe('source-not-local');
      expect(result.diagnosis.summary).toContain('10.66.0.1');
      expect(fdCount()).toBe(before);
    },
  );

  netnsIt(
    'freebind binds a source that is not local, but the connect then fails at routing (no-route)',
    async (ns) => {
      await echoServer(15006, '0.0.0.0');
      const before = fdCount();
      const early = await safeConnect({
        host: '127.0.0.1',
        port: 15006,
        localAddress: '10.67.0.1',
        freebind: true,
      });
      expect(early.ok).toBe(false);
      if (!early.ok) {
        // The bind step passed (freebind); the kernel's route lookup refuses a non-local source.
        expect(early.error).toMatchObject({ syscall: 'connect', code: 'ENETUNREACH' });
        expect(early.diagnosis.cause).toBe('no-route');
        expect(early.diagnosis.summary).toContain('10.67.0.1');
      }
      expect(fdCount()).toBe(before);
      ns.run('ip addr add 10.67.0.1/32 dev lo');
      const later = await safeConnect({
        host: '127.0.0.1',
        port: 15006,
        localAddress: '10.67.0.1',
        freebind: true,
      });
      if (!later.ok) throw new Error(later.diagnosis.summary);
      expect(later.socket.localAddress).toBe('10.67.0.1');
      later.socket.destroy();
    },
  );

  netnsIt(
    'the 11th connect into a 10-port pool diagnoses ephemeral-ports-exhausted with exact counts',
    async (ns) => {
      ns.sysctl('net.ipv4.ip_local_port_range', '40000 40009');
      await echoServer(5555);
      const open: net.Socket[] = [];
      try {
        for (let i = 0; i < 10; i++) {
          const r = await safeConnect({ host: '127.0.0.1', port: 5555 });
          if (!r.ok) throw new Error(`connect ${i + 1}: ${r.diagnosis.summary}`);
          open.push(r.socket);
        }
        const before = fdCount();
        const eleventh = await safeConnect({ host: '127.0.0.1', port: 5555 });
        expect(eleventh.ok).toBe(false);
        if (eleventh.ok) return;
        expect(eleventh.error).toMatchObject({ syscall: 'connect', code: 'EADDRNOTAVAIL' });
        expect(eleventh.diagnosis.cause).toBe('ephemeral-ports-exhausted');
        const usage = Object.values(eleventh.diagnosis.evidence).find(
          (v): v is PortUsage => typeof v === 'object' && v !== null && 'poolSize' in v,
        );
        expect(usage).toMatchObject({
          destination: '127.0.0.1:5555',
          range: [40000, 40009],
          reserved: 0,
          poolSize: 10,
          inUse: 10,
          byState: { ESTABLISHED: 10 },
        });
        expect(fdCount()).toBe(before);
      } finally {
        for (const s of open) s.destroy();
      }
    },
  );

  netnsIt('no route to the destination is no-route', async () => {
    const result = await safeConnect({ host: '10.200.0.1', port: 80 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('ENETUNREACH');
    expect(result.diagnosis.cause).toBe('no-route');
  });

  netnsIt('a refused connect explains connection-refused and says nothing listens on the port', async () => {
    const before = fdCount();
    const result = await safeConnect({ host: '127.0.0.1', port: 1 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({
      syscall: 'connect',
      code: 'ECONNREFUSED',
      address: '127.0.0.1',
      port: 1,
    });
    expect(result.diagnosis.cause).toBe('connection-refused');
    expect(result.diagnosis.summary).toBe(
      'Connection refused by 127.0.0.1:1: nothing listens on port 1 in this network namespace',
    );
    expect(fdCount()).toBe(before);
  });

  netnsIt('timeout ends a connect that gets no answer with ETIMEDOUT and a summary', async (ns) => {
    const target = silentSubnet(ns);
    const before = fdCount();
    const started = Date.now();
    const result = await safeConnect({ host: target, port: 80, timeout: 300 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ syscall: 'connect', code: 'ETIMEDOUT', address: target, port: 80 });
    expect(result.diagnosis.summary).toContain(target);
    expect(fdCount()).toBe(before);
  });

  netnsIt('aborting a connect in progress rejects with an AbortError and closes the socket', async (ns) => {
    const target = silentSubnet(ns);
    const before = fdCount();
    const controller = new AbortController();
    const pending = safeConnect({ host: target, port: 80, signal: controller.signal });
    await sleep(50);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(fdCount()).toBe(before);
  });

  netnsIt('a host name is resolved with dns.lookup', async () => {
    await echoServer(15007);
    const result = await safeConnect({ host: 'localhost', port: 15007, localAddress: '127.0.0.1' });
    if (!result.ok) throw new Error(result.diagnosis.summary);
    expect(result.socket.remoteAddress).toBe('127.0.0.1');
    result.socket.destroy();
  });

  describe('bad values are invalid-address, wrong types TypeErrors', () => {
    const invalid: Array<[string, ConnectOptions]> = [
      ['port 0', { host: '127.0.0.1', port: 0 }],
      ['port 70000', { host: '127.0.0.1', port: 70000 }],
      ['a bad local address', { host: '127.0.0.1', port: 80, localAddress: '1.2.3.4.5' }],
      ['a local port out of range', { host: '127.0.0.1', port: 80, localPort: 65536 }],
      ['a bad destination', { host: '300.1.1.1', port: 80 }],
      ['families that differ', { host: '::1', port: 80, localAddress: '127.0.0.1' }],
    ];
    for (const [what, opts] of invalid) {
      netnsIt(what, async () => {
        const before = fdCount();
        const result = await safeConnect(opts);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.diagnosis.cause).toBe('invalid-address');
        expect(fdCount()).toBe(before);
      });
    }
    const wrong: Array<[string, unknown]> = [
      ['host: 42', { host: 42, port: 80 }],
      ['port: "80"', { host: '127.0.0.1', port: '80' }],
      ['localAddress: 1', { host: '127.0.0.1', port: 80, localAddress: 1 }],
      ['timeout: "1s"', { host: '127.0.0.1', port: 80, timeout: '1s' }],
      ['bindAddressNoPort: 1', { host: '127.0.0.1', port: 80, bindAddressNoPort: 1 }],
    ];
    for (const [what, opts] of wrong) {
      it(what, async () => {
        await expect(safeConnect(opts as ConnectOptions)).rejects.toThrow(TypeError);
      });
    }
  });
});
