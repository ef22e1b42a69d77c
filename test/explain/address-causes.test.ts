// explain() on real bind failures about the local address itself: absent (a VIP in a veth's subnet),
// attached after the failure, tentative (DAD running, or no carrier), DAD failed, IPv6 disabled, and a
// link-local address without its scope. Each failure is made for real in the test's own namespace.
import net from 'node:net';
import { expect } from 'vitest';
import { explain } from '../../lib/index.js';
import { bind, closeSocket, newSocket } from '../../lib/sys/index.js';
import type { SocketError } from '../../lib/types.js';
import { netnsIt, vethToPeerOwning } from '../helpers/netns.js';
import { commands, dgramBindError, ipFlags, listenError, options, sleep, vethPair } from './helpers.js';
import { eachReader } from '../helpers/readers.js';

/** A bind through lib/sys that must fail; returns its SocketError. */
function sysBindError(family: 4 | 6, address: string, port: number, scopeId?: number): SocketError {
  const fd = newSocket(family, 'tcp');
  if (!fd.ok) throw new Error(fd.error.message);
  try {
    const r = bind(fd.value, { address, port, family, ...(scopeId !== undefined ? { scopeId } : {}) });
    if (r.ok) throw new Error(`bind ${address}:${port} succeeded; the test expected it to fail`);
    return r.error;
  } finally {
    closeSocket(fd.value);
  }
}

eachReader('explain() on address causes, against the real kernel', () => {
  netnsIt(
    "listening on a VIP in v0's subnet that is not attached explains address-not-local, names v0 and 10.9.0.0/24, and says ip addr add 10.9.0.50/24 dev v0",
    async (ns) => {
      vethPair(ns, 'v0', 'v1');
      ns.run('ip addr add 10.9.0.1/24 dev v0');
      const err = await listenError(net.createServer(), 8080, '10.9.0.50');
      expect(err).toMatchObject({
        code: 'EADDRNOTAVAIL',
        syscall: 'listen',
        address: '10.9.0.50',
        port: 8080,
      });

      const d = await explain(err);
      expect(d.cause).toBe('address-not-local');
      expect(d.code).toBe('EADDRNOTAVAIL');
      expect(d.evidence['subnet']).toMatchObject({ interface: 'v0', cidr: '10.9.0.0/24', prefixLength: 24 });
      expect(d.summary).toContain("v0's subnet 10.9.0.0/24");
      expect(d.remediation[1]?.commands).toEqual(['ip addr add 10.9.0.50/24 dev v0']);
      expect(options(d)).toContain('freebind: true');
    },
  );

  netnsIt(
    'an address attached after the failed listen explains address-appeared with a successful probe bind',
    async (ns) => {
      vethPair(ns, 'v0', 'v1');
      ns.run('ip addr add 10.9.0.1/24 dev v0');
      const err = await listenError(net.createServer(), 8080, '10.9.0.60');
      ns.run('ip addr add 10.9.0.60/24 dev v0');

      const d = await explain(err);
      expect(d.cause).toBe('address-appeared');
      expect(d.evidence['rebind']).toEqual({ ok: true });
      expect(d.evidence['present']).toEqual([
        expect.objectContaining({ interface: 'v0', address: '10.9.0.60', prefixLength: 24 }),
      ]);
      expect(options(d)[0]).toBe('waitForAddress: 30000');
    },
  );

  netnsIt(
    'ip_nonlocal_bind=1 turned on after the failure keeps address-not-local (the probe bind proves nothing) and warns about it',
    async (ns) => {
      vethPair(ns, 'v0', 'v1');
      ns.run('ip addr add 10.9.0.1/24 dev v0');
      const err = await listenError(net.createServer(), 8080, '10.9.0.50');
      ns.sysctl('net.ipv4.ip_nonlocal_bind', '1');

      const d = await explain(err);
      expect(d.cause).toBe('address-not-local');
      expect(d.evidence['ipNonlocalBind']).toBe(true);
      expect(
        d.details.some((line) => line.startsWith('net.ipv4.ip_nonlocal_bind is 1 on this host now')),
      ).toBe(true);
      expect(commands(d)).toContain('sysctl -w net.ipv4.ip_nonlocal_bind=0');
      expect(commands(d)).not.toContain('sysctl -w net.ipv4.ip_nonlocal_bind=1');
    },
  );

  netnsIt(
    'binding an IPv6 address while DAD runs (dad_transmits 30, link with carrier) explains address-tentative, DAD running',
    async (ns) => {
      vethPair(ns, 'v0', 'v1');
      ns.sysctl('net.ipv6.conf.v0.dad_transmits', '30');
      // Carrier first: DAD starts only on a running link; then the address stays tentative ~30 s.
      await waitForCarrier(ns, 'v0');
      ns.run('ip addr add fd00:9::10/64 dev v0');
      expect(ipFlags(ns, 'fd00:9::10')).toContain('tentative');
      const err = await listenError(net.createServer(), 8080, 'fd00:9::10');
      expect(err.code).toBe('EADDRNOTAVAIL');

      const d = await explain(err);
      expect(d.cause).toBe('address-tentative');
      expect(d.evidence).toMatchObject({ interface: 'v0', up: true, carrier: true, dadTransmits: 30 });
      expect(d.summary).toContain('duplicate address detection is running');
      expect(d.summary).toContain('dad_transmits = 30');
      expect(commands(d)).toContain('ip addr add fd00:9::10/64 dev v0 nodad');
    },
  );

  netnsIt(
    'binding an IPv6 address on a veth whose peer is down explains address-tentative, no carrier',
    async (ns) => {
      vethPair(ns, 'v0', 'v1', { peerUp: false });
      ns.run('ip addr add fd00:9::20/64 dev v0');
      await sleep(1500); // longer than one DAD round: no carrier keeps it tentative regardless
      expect(ipFlags(ns, 'fd00:9::20')).toContain('tentative');
      const error = sysBindError(6, 'fd00:9::20', 8080);
      expect(error.code).toBe('EADDRNOTAVAIL');

      const d = await explain(error);
      expect(d.cause).toBe('address-tentative');
      expect(d.evidence).toMatchObject({ interface: 'v0', up: true, carrier: false });
      expect(d.summary).toContain('v0 has no carrier');
      expect(d.remediation[0]?.title).toContain('veth peer of v0');
    },
  );

  netnsIt(
    'a link that lost carrier: the address is tentative at first, the diagnosis does not promise "until the link is up", and it binds within 4 s with the link still down',
    async (ns) => {
      vethPair(ns, 'v0', 'v1');
      await waitForCarrier(ns, 'v0');
      ns.run('ip link set v1 down'); // v1 is the peer end: v0 loses carrier
      while (ns.run('ip -br link show v0').includes('LOWER_UP')) await sleep(20);
      ns.run('ip addr add fd00:9::21/64 dev v0');
      const error = sysBindError(6, 'fd00:9::21', 8080);
      expect(error.code).toBe('EADDRNOTAVAIL');

      const d = await explain(error);
      expect(d.cause).toBe('address-tentative');
      expect(d.evidence).toMatchObject({ interface: 'v0', up: true, carrier: false });
      expect(d.summary).toContain('v0 has no carrier');
      expect(d.summary).not.toMatch(/until the link|once the link is up/);
      expect(d.details.join(' ')).toMatch(/had carrier and lost it, DAD completes anyway/);

      // Measured: DAD completes 1.4–2 s after the address was added, carrier still absent.
      const end = Date.now() + 4000;
      let bound = false;
      while (!bound && Date.now() < end) {
        const fd = newSocket(6, 'tcp');
        if (!fd.ok) throw new Error(fd.error.message);
        bound = bind(fd.value, { address: 'fd00:9::21', port: 8080, family: 6 }).ok;
        closeSocket(fd.value);
        if (!bound) await sleep(50);
      }
      expect(bound).toBe(true);
      expect(ns.run('ip -br link show v0')).not.toContain('LOWER_UP');
    },
  );

  netnsIt(
    'the same IPv6 address on both ends of a veth between two namespaces explains address-dad-failed',
    async (ns) => {
      vethToPeerOwning(ns, 'fd00:9::30/64', 'v0', 'v1');
      ns.run('ip link set v0 up');
      await waitForCarrier(ns, 'v0');
      ns.run('ip addr add fd00:9::30/64 dev v0');
      await waitForFlag(ns, 'fd00:9::30', 'dadfailed');
      const error = sysBindError(6, 'fd00:9::30', 8080);
      expect(error.code).toBe('EADDRNOTAVAIL');

      const d = await explain(error);
      expect(d.cause).toBe('address-dad-failed');
      expect(d.evidence['interface']).toBe('v0');
      expect(d.evidence['present']).toEqual([
        expect.objectContaining({ flags: expect.arrayContaining(['dadfailed', 'tentative']) }),
      ]);
      expect(d.summary).toContain('failed duplicate address detection on v0');
    },
  );

  netnsIt('binding ::1 with net.ipv6.conf.all.disable_ipv6=1 explains family-unavailable', async (ns) => {
    ns.sysctl('net.ipv6.conf.all.disable_ipv6', '1');
    const err = await listenError(net.createServer(), 8080, '::1');
    expect(err.code).toBe('EADDRNOTAVAIL');

    const d = await explain(err);
    expect(d.cause).toBe('family-unavailable');
    expect(d.summary).toContain('net.ipv6.conf.all.disable_ipv6 = 1');
    expect(commands(d)).toContain('sysctl -w net.ipv6.conf.all.disable_ipv6=0');
  });

  netnsIt('binding a link-local address without a scope explains scope-id-required (EINVAL)', async (ns) => {
    vethPair(ns, 'v0', 'v1');
    ns.run('ip addr add fe80::9:1/64 dev v0 nodad');
    const err = await dgramBindError('udp6', 5353, 'fe80::9:1');
    expect(err).toMatchObject({ code: 'EINVAL', syscall: 'bind' });

    const d = await explain(err, { protocol: 'udp' });
    expect(d.cause).toBe('scope-id-required');
    expect(d.evidence['owners']).toEqual(['v0']);
    expect(options(d)[0]).toBe("host: 'fe80::9:1%v0'");
  });
});

async function waitForCarrier(ns: import('../helpers/netns.js').Netns, iface: string): Promise<void> {
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    if (ns.run(`ip -br link show ${iface}`).includes('LOWER_UP')) return;
    await sleep(20);
  }
  throw new Error(`${iface} has no carrier after 5 s`);
}

async function waitForFlag(
  ns: import('../helpers/netns.js').Netns,
  address: string,
  flag: string,
): Promise<void> {
  const end = Date.now() + 8000;
  while (Date.now() < end) {
    if (ipFlags(ns, address).includes(flag)) return;
    await sleep(50);
  }
  throw new Error(`${address} never became ${flag}: ${ipFlags(ns, address).join(' ')}`);
}
