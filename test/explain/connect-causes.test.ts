// explain() on real outbound failures made with net.connect: a source address that is not local,
// the source-port pool toward one destination used up (with and without reserved ports), no route,
// and connect errors that lack the destination, where the diagnosis says what it could not check.
import { expect } from 'vitest';
import { explain, preflight } from '../../lib/index.js';
import { netnsIt } from '../helpers/netns.js';
import { commands, connectError, connected, listener, options, vethPair } from './helpers.js';
import { addonGap, eachReader } from '../helpers/readers.js';

eachReader('explain() on connect causes, against the real kernel', (kind) => {
  netnsIt(
    "net.connect from a localAddress in v0's subnet that is not attached explains source-not-local",
    async (ns) => {
      vethPair(ns, 'v0', 'v1');
      ns.run('ip addr add 10.9.0.1/24 dev v0');
      const err = await connectError({ host: '10.9.0.1', port: 7000, localAddress: '10.9.0.77' });
      // Node reports the failed source bind: syscall 'bind', the source as address, no port.
      expect(err).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind', address: '10.9.0.77' });
      expect(err.port).toBeUndefined();

      // The caller knows the destination; the error names only the source.
      const d = await explain(err, { host: '10.9.0.1', port: 7000 });
      expect(d.cause).toBe('source-not-local');
      expect(d.evidence).toMatchObject({ address: '10.9.0.77', destination: '10.9.0.1:7000' });
      expect(d.evidence['subnet']).toMatchObject({ interface: 'v0', cidr: '10.9.0.0/24' });
      expect(d.summary).toContain('Cannot connect to 10.9.0.1:7000 from 10.9.0.77');
      expect(d.remediation[1]?.commands).toEqual(['ip addr add 10.9.0.77/24 dev v0']);
      expect(options(d)).toContain("localAddress: '10.9.0.1'");

      // Naming the source in the context says the same.
      const same = await explain(err, { host: '10.9.0.1', port: 7000, localAddress: '10.9.0.77' });
      expect(same.cause).toBe('source-not-local');
    },
  );

  netnsIt(
    'the 11th connect to one destination with a 10-port range explains ephemeral-ports-exhausted with poolSize 10 and inUse 10, while another port of the host still connects',
    async (ns) => {
      ns.sysctl('net.ipv4.ip_local_port_range', '40000 40009');
      ns.sysctl('net.ipv4.tcp_tw_reuse', '0');
      await listener(7000);
      await listener(7001);
      for (let i = 0; i < 10; i++) await connected({ host: '127.0.0.1', port: 7000 });
      const err = await connectError({ host: '127.0.0.1', port: 7000 });
      expect(err).toMatchObject({
        code: 'EADDRNOTAVAIL',
        syscall: 'connect',
        address: '127.0.0.1',
        port: 7000,
      });

      const d = await explain(err);
      expect(d.cause).toBe('ephemeral-ports-exhausted');
      expect(d.evidence['portUsage']).toMatchObject({
        destination: '127.0.0.1:7000',
        range: [40000, 40009],
        reserved: 0,
        poolSize: 10,
        inUse: 10,
        byState: { ESTABLISHED: 10 },
        usage: 1,
      });
      expect(d.evidence['tcpTwReuse']).toBe(0);
      expect(d.summary).toBe('Out of source ports toward 127.0.0.1:7000: 10 of 10 in use (100%)');
      expect(commands(d)).toContain('sysctl -w net.ipv4.ip_local_port_range="1024 65535"');
      // Open connections fill it, not TIME_WAIT: the command that finds them, pasted, lists the ten;
      // no TIME_WAIT fix is offered.
      const ss = commands(d).find((c) => c.startsWith('ss '));
      expect(ss).toBe('ss -tnp state connected exclude time-wait dst 127.0.0.1:7000');
      expect(ns.run(ss!).trim().split('\n').slice(1)).toHaveLength(10);
      expect(JSON.stringify(d.remediation)).not.toMatch(/tcp_tw_reuse|resetAndDestroy/);

      // The pool is per destination: the same host on another port has all 10 ports.
      const other = await connected({ host: '127.0.0.1', port: 7001 });
      expect(other.localPort).toBeGreaterThanOrEqual(40000);
      expect(other.localPort).toBeLessThanOrEqual(40009);
    },
  );

  netnsIt(
    'net.connect with a localAddress and a full pool fails connect EADDRINUSE, which also explains ephemeral-ports-exhausted',
    async (ns) => {
      ns.sysctl('net.ipv4.ip_local_port_range', '40000 40009');
      ns.sysctl('net.ipv4.tcp_tw_reuse', '0');
      await listener(7000);
      const from = { host: '127.0.0.1', port: 7000, localAddress: '127.0.0.1' };
      for (let i = 0; i < 10; i++) await connected(from);
      const err = await connectError(from);
      // libuv binds (127.0.0.1, 0) with SO_REUSEADDR: the bind shares a port, the 4-tuple is taken.
      expect(err).toMatchObject({ code: 'EADDRINUSE', syscall: 'connect', address: '127.0.0.1', port: 7000 });

      for (const context of [undefined, { localAddress: '127.0.0.1' }]) {
        const d = await explain(err, context);
        expect(d.cause).toBe('ephemeral-ports-exhausted');
        expect(d.evidence['portUsage']).toMatchObject({ poolSize: 10, inUse: 10 });
        expect(
          d.details.some((line) => line.includes('chosen by bind() before the destination was known')),
        ).toBe(true);
      }
    },
  );

  netnsIt(
    'connections left in TIME_WAIT use up the pool too: the diagnosis counts them and suggests tcp_tw_reuse=1',
    async (ns) => {
      ns.sysctl('net.ipv4.ip_local_port_range', '40000 40009');
      ns.sysctl('net.ipv4.tcp_tw_reuse', '0');
      await listener(7000);
      for (let i = 0; i < 10; i++) {
        const s = await connected({ host: '127.0.0.1', port: 7000 });
        // The client closes first, so its side keeps the 4-tuple in TIME_WAIT for 60 s.
        await new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.end();
        });
      }
      const err = await connectError({ host: '127.0.0.1', port: 7000 });
      expect(err.code).toBe('EADDRNOTAVAIL');

      const d = await explain(err);
      expect(d.cause).toBe('ephemeral-ports-exhausted');
      expect(d.evidence['portUsage']).toMatchObject({ poolSize: 10, inUse: 10, byState: { TIME_WAIT: 10 } });
      expect(commands(d)).toContain('sysctl -w net.ipv4.tcp_tw_reuse=1');
    },
  );

  netnsIt(
    'reserved ports shrink the pool: 40000-40009 less 40000-40002 reserved gives poolSize 7, and the 8th connect fails',
    async (ns) => {
      ns.sysctl('net.ipv4.ip_local_port_range', '40000 40009');
      ns.sysctl('net.ipv4.ip_local_reserved_ports', '40000-40002');
      ns.sysctl('net.ipv4.tcp_tw_reuse', '0');
      await listener(7000);
      const ports: number[] = [];
      for (let i = 0; i < 7; i++)
        ports.push((await connected({ host: '127.0.0.1', port: 7000 })).localPort ?? 0);
      expect(ports.every((p) => p >= 40003 && p <= 40009)).toBe(true);
      const err = await connectError({ host: '127.0.0.1', port: 7000 });
      expect(err.code).toBe('EADDRNOTAVAIL');

      const d = await explain(err);
      expect(d.cause).toBe('ephemeral-ports-exhausted');
      expect(d.evidence).toMatchObject({ range: [40000, 40009], reserved: 3, poolSize: 7 });
      expect(d.evidence['portUsage']).toMatchObject({ reserved: 3, poolSize: 7, inUse: 7 });
      expect(d.details).toContain(
        'The pool is net.ipv4.ip_local_port_range 40000-40009 (10 ports) minus 3 reserved in net.ipv4.ip_local_reserved_ports (40000-40002) = 7 ports.',
      );
    },
  );

  netnsIt('net.connect to an address with no route explains no-route with the route lookup', async (ns) => {
    vethPair(ns, 'v0', 'v1');
    ns.run('ip addr add 10.9.0.1/24 dev v0');
    const err = await connectError({ host: '10.99.0.1', port: 80 });
    expect(err).toMatchObject({ code: 'ENETUNREACH', syscall: 'connect', address: '10.99.0.1', port: 80 });

    const d = await explain(err);
    expect(d.cause).toBe('no-route');
    expect(d.evidence['route']).toEqual({
      ok: false,
      destination: '10.99.0.1',
      errno: 101,
      code: 'ENETUNREACH',
    });
    expect(d.summary).toBe('Cannot connect to 10.99.0.1:80: this host has no route to 10.99.0.1');
    expect(commands(d)).toEqual([
      "ip route add 10.99.0.1/32 via '<gateway>' dev v0",
      'ip route get 10.99.0.1',
    ]);
  });

  netnsIt(
    'TCP toward a broadcast or multicast address: preflight fails it and explain() says why, not a missing route',
    async (ns) => {
      vethPair(ns, 'v0', 'v1');
      ns.run('ip addr add 10.9.0.1/24 dev v0');
      // A multicast route: TCP is refused even so (and UDP, below, goes through).
      ns.run('ip route add 224.0.0.0/4 dev v0');
      // The kernel's own answer first, so the test fails if it ever lets such a connect through.
      for (const [host, kind] of [
        ['255.255.255.255', 'broadcast'],
        ['10.9.0.255', 'broadcast'],
        ['224.0.0.1', 'multicast'],
      ] as const) {
        const err = await connectError({ host, port: 80 });
        expect(err, host).toMatchObject({ code: 'ENETUNREACH', syscall: 'connect' });
        const d = await explain(err);
        expect(d.cause, host).toBe('no-route');
        expect(d.summary).toBe(`Cannot connect to ${host}:80 over TCP: ${host} is a ${kind} address`);
        expect(d.details.join(' ')).not.toContain('missing when connect ran');

        const check = (await preflight({ connect: [`${host}:80`] })).checks[0];
        expect(check?.ok, host).toBe(false);
        expect(check?.diagnosis?.summary).toBe(
          `Cannot connect to ${host}:80 over TCP: ${host} is a ${kind} address`,
        );
      }
      // UDP sends to them: preflight lets it through.
      const udp = await preflight({ connect: [{ host: '224.0.0.1', port: 80, protocol: 'udp' }] });
      expect(udp.checks[0]?.ok).toBe(true);
    },
  );

  netnsIt(
    'a connect from a source that ip_nonlocal_bind let through fails ENETUNREACH and explains no-route, the source being absent',
    async (ns) => {
      vethPair(ns, 'v0', 'v1');
      ns.run('ip addr add 10.9.0.1/24 dev v0');
      ns.sysctl('net.ipv4.ip_nonlocal_bind', '1');
      const err = await connectError({ host: '10.9.0.1', port: 7000, localAddress: '10.9.0.200' });
      expect(err).toMatchObject({ code: 'ENETUNREACH', syscall: 'connect', address: '10.9.0.1', port: 7000 });

      const d = await explain(err, { localAddress: '10.9.0.200' });
      expect(d.cause).toBe('no-route');
      expect(d.evidence).toMatchObject({ localAddress: '10.9.0.200', localAddressPresent: false });
      expect(d.remediation[0]?.commands).toEqual(['ip addr add 10.9.0.200/24 dev v0']);
    },
  );

  netnsIt(
    'a connect error stripped of its destination says it could not count the pool, and context restores it',
    async (ns) => {
      ns.sysctl('net.ipv4.ip_local_port_range', '40000 40009');
      ns.sysctl('net.ipv4.tcp_tw_reuse', '0');
      await listener(7000);
      for (let i = 0; i < 10; i++) await connected({ host: '127.0.0.1', port: 7000 });
      const err = await connectError({ host: '127.0.0.1', port: 7000 });
      // What survives a logger that keeps only code, errno and syscall.
      const bare = { code: err.code, errno: err.errno, syscall: err.syscall };

      const blind = await explain(bare);
      expect(blind.cause).toBe('ephemeral-ports-exhausted');
      expect(blind.evidence['portUsage']).toBe('unavailable');
      expect(blind.evidence['unavailable']).toEqual([
        ...addonGap(kind),
        'the source-port pool toward the destination: the error does not name it (pass { host, port } as context)',
      ]);
      expect(blind.details).toContain(
        'Not checked: the source-port pool toward the destination: the error does not name it (pass { host, port } as context).',
      );

      const told = await explain(bare, { host: '127.0.0.1', port: 7000 });
      expect(told.evidence['portUsage']).toMatchObject({ poolSize: 10, inUse: 10 });
      expect(told.evidence['unavailable']).toEqual(kind === 'addon' ? undefined : addonGap(kind));
    },
  );

  netnsIt('a no-route error without its destination says the route was not looked up', async () => {
    const err = await connectError({ host: '10.99.0.1', port: 80 });
    const d = await explain({ code: err.code, errno: err.errno, syscall: err.syscall });
    expect(d.cause).toBe('no-route');
    expect(d.evidence['route']).toBe('not looked up');
    expect(d.details).toContain(
      'Not checked: the route: the error does not name the destination (pass { host, port } as context).',
    );
  });
});
