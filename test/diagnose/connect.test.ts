// connect failures: ephemeral-ports-exhausted (and when the figures do not support it), no-route.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../lib/diagnose/index.js';
import type { PortUsage } from '../../lib/types.js';
import { addr, connectFailure, snapshot, sysctls } from './fixtures.js';

function usage(
  inUse: number,
  byState: Record<string, number>,
  overrides: Partial<PortUsage> = {},
): PortUsage {
  const poolSize = overrides.poolSize ?? 28232;
  return {
    protocol: 'tcp',
    destination: '10.0.0.9:5432',
    range: [32768, 60999],
    reserved: 0,
    poolSize,
    inUse,
    byState,
    usage: inUse / poolSize,
    ...overrides,
  };
}

describe('ephemeral-ports-exhausted', () => {
  it('a full pool dominated by TIME_WAIT explains the 4-tuple pool and lists the fixes in order with real values', () => {
    const host = snapshot({ portUsage: usage(28232, { TIME_WAIT: 27000, ESTABLISHED: 1232 }) });
    const diagnosis = diagnose(connectFailure('10.0.0.9', 5432, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.cause).toBe('ephemeral-ports-exhausted');
    expect(diagnosis.summary).toBe(
      'Out of source ports toward 10.0.0.9:5432: 28,232 of 28,232 in use (100%), 96% of them in TIME_WAIT',
    );
    expect(diagnosis.evidence['portUsage']).toMatchObject({ inUse: 28232, poolSize: 28232 });
    expect(diagnosis.details).toContain(
      'The pool is per (source IP, destination IP, destination port): connections to other ports of 10.0.0.9, or from another source address, still find free ports.',
    );
    expect(diagnosis.details).toContain(
      'net.ipv4.tcp_tw_reuse is 2: TIME_WAIT ports are reused toward loopback destinations only.',
    );
    expect(
      diagnosis.remediation.map(
        (remedy) => remedy.commands?.[0] ?? remedy.option ?? remedy.title.slice(0, 20),
      ),
    ).toEqual([
      'sysctl -w net.ipv4.ip_local_port_range="1024 65535"',
      'Reuse connections in',
      'sysctl -w net.ipv4.tcp_tw_reuse=1',
      "ip addr add '<another address>'/24 dev eth0",
      'Spread connections o',
      'socket.resetAndDestroy()',
    ]);
    expect(diagnosis.remediation[2]?.title).toMatch(/\(now 2, loopback only\)/);
    expect(diagnosis.remediation[2]?.warning).toMatch(/For clients.*not for servers behind NAT/);
    expect(diagnosis.remediation[5]?.warning).toMatch(/RST/);
  });

  it('a pool full of open connections asks for fewer at once, and offers no TIME_WAIT fix', () => {
    const host = snapshot({
      portUsage: usage(28232, { ESTABLISHED: 27000, CLOSE_WAIT: 1200, TIME_WAIT: 32 }),
    });
    const diagnosis = diagnose(connectFailure('10.0.0.9', 5432, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.cause).toBe('ephemeral-ports-exhausted');
    const first = diagnosis.remediation.findIndex((r) => r.title.startsWith('Open fewer connections'));
    expect(diagnosis.remediation[first]?.title).toMatch(
      /28,200 of the pool's sockets are open .*maxSockets.*CLOSE_WAIT/,
    );
    expect(diagnosis.remediation[first]?.commands).toEqual([
      'ss -tnp state connected exclude time-wait dst 10.0.0.9:5432',
    ]);
    const all = JSON.stringify(diagnosis.remediation);
    expect(all).not.toMatch(/tcp_tw_reuse|resetAndDestroy/);
  });

  it('offers the other addresses of the interface that carries the traffic as more sources', () => {
    const addresses = [
      addr('eth0', '10.0.0.10', 24),
      addr('eth0', '10.0.0.11', 24, ['secondary']),
      addr('eth1', '192.168.1.5', 24),
    ];
    const host = snapshot({ addresses, portUsage: usage(28232, { ESTABLISHED: 28232 }) });
    const diagnosis = diagnose(connectFailure('10.0.0.9', 5432, 'EADDRNOTAVAIL'), host);
    const sources = diagnosis.remediation.find((remedy) => remedy.option?.includes('bindAddressNoPort'));
    expect(sources?.option).toBe("localAddress: '10.0.0.11', bindAddressNoPort: true");
    expect(sources?.title).toMatch(/\(eth0 also has 10\.0\.0\.11\)$/);
    expect(sources?.warning).toMatch(/Without bindAddressNoPort/);
  });

  it('never offers as more sources the ones a pool of sources tried, or that are full already', () => {
    const addresses = [
      addr('eth0', '10.0.0.10', 24),
      addr('eth0', '10.0.0.11', 24, ['secondary']),
      addr('eth0', '10.0.0.12', 24, ['secondary']),
    ];
    const tried = {
      ...connectFailure('10.0.0.9', 5432, 'EADDRNOTAVAIL'),
      triedSources: ['10.0.0.11', '10.0.0.12'],
    };
    const full = diagnose(tried, snapshot({ addresses, portUsage: usage(28232, { ESTABLISHED: 28232 }) }));
    const sources = full.remediation.find((remedy) => remedy.option?.includes('bindAddressNoPort'));
    expect(sources?.option).toBe("localAddress: '<another address>', bindAddressNoPort: true");
    // Read full among the sources the connections leave from: the same.
    const read = usage(
      28232,
      { ESTABLISHED: 28232 },
      {
        localAddress: '10.0.0.11',
        sources: [
          { address: '10.0.0.11', inUse: 28232 },
          { address: '10.0.0.12', inUse: 28000 },
          { address: '10.0.0.10', inUse: 3 },
        ],
      },
    );
    const some = diagnose(
      connectFailure('10.0.0.9', 5432, 'EADDRNOTAVAIL'),
      snapshot({ addresses, portUsage: read }),
    );
    const offered = some.remediation.find((remedy) => remedy.option?.includes('bindAddressNoPort'));
    expect(offered?.option).toBe("localAddress: '10.0.0.10', bindAddressNoPort: true");
    expect(offered?.title).toMatch(/\(eth0 also has 10\.0\.0\.10\)$/);
  });

  it('reserved ports shrink the pool figures shown and add a remedy to reserve fewer', () => {
    const host = snapshot({
      portUsage: usage(18000, { ESTABLISHED: 18000 }, { reserved: 10000, poolSize: 18232 }),
      sysctls: sysctls({ ipLocalReservedPorts: [[40000, 49999]] }),
    });
    const diagnosis = diagnose(connectFailure('10.0.0.9', 5432, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.cause).toBe('ephemeral-ports-exhausted');
    expect(diagnosis.details).toContain(
      'The pool is net.ipv4.ip_local_port_range 32768-60999 (28,232 ports) minus 10,000 reserved in net.ipv4.ip_local_reserved_ports (40000-49999) = 18,232 ports.',
    );
    expect(diagnosis.details).toContain('Reserved ports take 35% of the range, shrinking the pool as much.');
    expect(diagnosis.evidence).toMatchObject({ reserved: 10000, poolSize: 18232 });
    expect(diagnosis.remediation[0]?.title).toBe(
      'Widen the local port range from 32768-60999 to 1024-65535 (54,512 ports per destination instead of 18,232)',
    );
    expect(diagnosis.remediation[1]?.commands?.[0]).toBe('sysctl net.ipv4.ip_local_reserved_ports');
    // No TIME_WAIT to speak of: tcp_tw_reuse would not help.
    expect(diagnosis.remediation.some((remedy) => remedy.commands?.[0]?.includes('tcp_tw_reuse'))).toBe(
      false,
    );
  });

  it('a pool that is not near full is not called exhaustion: unknown with the figures', () => {
    const host = snapshot({ portUsage: usage(1200, { ESTABLISHED: 1200 }) });
    const diagnosis = diagnose(connectFailure('10.0.0.9', 5432, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.cause).toBe('unknown');
    expect(diagnosis.details).toContain(
      'EADDRNOTAVAIL at connect usually means no free source port toward 10.0.0.9:5432, but only 1,200 of 28,232 (4%) are in use now; safebind calls it exhaustion from 90%.',
    );
    expect(diagnosis.evidence['portUsage']).toMatchObject({ inUse: 1200 });
  });

  it('just above the threshold still counts as exhaustion, just below does not', () => {
    const at = (inUse: number) =>
      diagnose(connectFailure('10.0.0.9', 5432, 'EADDRNOTAVAIL'), snapshot({ portUsage: usage(inUse, {}) }))
        .cause;
    expect(at(25409)).toBe('ephemeral-ports-exhausted');
    expect(at(25408)).toBe('unknown');
  });

  it('without a pool count it is still exhaustion, and says the figures are missing', () => {
    const diagnosis = diagnose(
      connectFailure('10.0.0.9', 5432, 'EADDRNOTAVAIL'),
      snapshot({ unavailable: ['port usage: sock_diag not permitted'] }),
    );
    expect(diagnosis.cause).toBe('ephemeral-ports-exhausted');
    expect(diagnosis.summary).toBe(
      'Out of source ports toward 10.0.0.9:5432: connect failed with EADDRNOTAVAIL (the pool could not be counted)',
    );
    expect(diagnosis.evidence['portUsage']).toBe('unavailable');
    expect(diagnosis.details).toContain('Not checked: port usage: sock_diag not permitted.');
  });

  it('tcp_tw_reuse=2 toward loopback is already reuse, so it is not suggested', () => {
    const host = snapshot({
      portUsage: usage(28232, { TIME_WAIT: 28232 }, { destination: '127.0.0.1:8080' }),
    });
    const diagnosis = diagnose(connectFailure('127.0.0.1', 8080, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.cause).toBe('ephemeral-ports-exhausted');
    expect(diagnosis.details).toContain(
      'tcp_tw_reuse = 2 already reuses TIME_WAIT ports toward this loopback destination.',
    );
    expect(diagnosis.remediation.some((remedy) => remedy.commands?.[0]?.includes('tcp_tw_reuse'))).toBe(
      false,
    );
  });

  it('UDP connect EAGAIN is exhaustion without the TCP-only fixes', () => {
    const host = snapshot({
      portUsage: usage(28232, { UNCONN: 28232 }, { protocol: 'udp', destination: '10.0.0.9:53' }),
    });
    const diagnosis = diagnose(connectFailure('10.0.0.9', 53, 'EAGAIN', { protocol: 'udp' }), host);
    expect(diagnosis.cause).toBe('ephemeral-ports-exhausted');
    expect(diagnosis.remediation.some((remedy) => remedy.option === 'socket.resetAndDestroy()')).toBe(false);
    expect(diagnosis.remediation[1]?.title).toBe(
      'Reuse one UDP socket for many messages instead of opening one per message',
    );
  });

  it('a widened range is not suggested again', () => {
    const host = snapshot({
      portUsage: usage(64512, { TIME_WAIT: 64512 }, { range: [1024, 65535], poolSize: 64512 }),
      sysctls: sysctls({ ipLocalPortRange: [1024, 65535], tcpTwReuse: 1 }),
    });
    const diagnosis = diagnose(connectFailure('10.0.0.9', 5432, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.remediation[0]?.title).toMatch(/^Reuse connections/);
    expect(diagnosis.remediation.some((remedy) => remedy.commands?.[0]?.includes('tcp_tw_reuse'))).toBe(
      false,
    );
  });
});

describe('no-route', () => {
  it('toward an IPv6 destination with IPv6 disabled is family-unavailable, with no route to add', () => {
    const host = snapshot({
      addresses: [addr('lo', '127.0.0.1', 8), addr('ens3', '10.0.0.10', 24)],
      route: { ok: false, destination: '::1', errno: 101, code: 'ENETUNREACH' },
      sysctls: sysctls({
        disableIpv6: { absent: false, all: true, default: true, interfaces: { lo: true, ens3: true } },
      }),
    });
    const diagnosis = diagnose(connectFailure('::1', 80, 'ENETUNREACH'), host);
    expect(diagnosis.cause).toBe('family-unavailable');
    expect(diagnosis.remediation[0]?.option).toBe('family: 4');
    expect(JSON.stringify(diagnosis.remediation)).not.toContain('ip route add');
  });

  it('no route at all gives ip route add with placeholders only for the unknown gateway', () => {
    const host = snapshot({
      addresses: [addr('lo', '127.0.0.1', 8), addr('ens3', '10.0.0.10', 24)],
      route: { ok: false, destination: '203.0.113.7', errno: 101, code: 'ENETUNREACH' },
    });
    const diagnosis = diagnose(connectFailure('203.0.113.7', 443, 'ENETUNREACH'), host);
    expect(diagnosis.cause).toBe('no-route');
    expect(diagnosis.summary).toBe(
      'Cannot connect to 203.0.113.7:443: this host has no route to 203.0.113.7',
    );
    expect(diagnosis.evidence['route']).toEqual({
      ok: false,
      destination: '203.0.113.7',
      errno: 101,
      code: 'ENETUNREACH',
    });
    expect(diagnosis.remediation.map((remedy) => remedy.commands)).toEqual([
      ["ip route add 203.0.113.7/32 via '<gateway>' dev ens3"],
      ['ip route get 203.0.113.7'],
    ]);
  });

  it('a source address that was removed is named as the reason for ENETUNREACH', () => {
    const host = snapshot({
      route: { ok: true, destination: '10.0.0.9', type: 'unicast', interface: 'eth0', source: '10.0.0.10' },
    });
    const failure = connectFailure('10.0.0.9', 5432, 'ENETUNREACH', { localAddress: '10.0.0.77' });
    const diagnosis = diagnose(failure, host);
    expect(diagnosis.cause).toBe('no-route');
    expect(diagnosis.summary).toBe(
      'Cannot connect to 10.0.0.9:5432: the source address 10.0.0.77 is not on this host',
    );
    expect(diagnosis.evidence['localAddressPresent']).toBe(false);
    expect(diagnosis.remediation[0]?.commands).toEqual(['ip addr add 10.0.0.77/24 dev eth0']);
    expect(diagnosis.remediation[diagnosis.remediation.length - 1]?.commands).toEqual([
      'ip route get 10.0.0.9 from 10.0.0.77',
    ]);
  });

  it('an unreachable-type route is shown as the one that rejects the destination', () => {
    const host = snapshot({ route: { ok: true, destination: '198.51.100.4', type: 'unreachable' } });
    const diagnosis = diagnose(connectFailure('198.51.100.4', 80, 'EHOSTUNREACH'), host);
    expect(diagnosis.cause).toBe('no-route');
    expect(diagnosis.summary).toBe(
      'Cannot connect to 198.51.100.4:80: the route toward 198.51.100.4 is of type unreachable, which rejects it',
    );
    expect(diagnosis.remediation[0]?.commands).toEqual(['ip route show table all type unreachable']);
  });

  it('EHOSTUNREACH with a working route points at the next hop not answering', () => {
    const host = snapshot({
      route: {
        ok: true,
        destination: '203.0.113.7',
        type: 'unicast',
        gateway: '10.0.0.1',
        interface: 'eth0',
      },
    });
    const diagnosis = diagnose(connectFailure('203.0.113.7', 443, 'EHOSTUNREACH'), host);
    expect(diagnosis.summary).toBe(
      'Cannot connect to 203.0.113.7:443: host unreachable, 10.0.0.1 on eth0 did not answer',
    );
    expect(diagnosis.remediation[0]?.commands).toEqual(['ip neigh show 10.0.0.1', 'ping -c 3 10.0.0.1']);
  });
});

describe('connect EADDRINUSE from a source bound to port 0', () => {
  // Node's net.connect({ localAddress }) binds (ip, 0) with SO_REUSEADDR: the bind shares a port and
  // connect then fails EADDRINUSE when every port toward the destination is taken.
  it('is ephemeral-ports-exhausted when the pool from that source is full', () => {
    const host = snapshot({
      portUsage: usage(
        10,
        { ESTABLISHED: 10 },
        { poolSize: 10, range: [40000, 40009], localAddress: '10.0.0.10' },
      ),
    });
    const diagnosis = diagnose(
      connectFailure('10.0.0.9', 5432, 'EADDRINUSE', { localAddress: '10.0.0.10' }),
      host,
    );
    expect(diagnosis.cause).toBe('ephemeral-ports-exhausted');
    expect(diagnosis.evidence['portUsage']).toMatchObject({ inUse: 10, poolSize: 10 });
  });

  it('is unknown, with the figures, when the pool from that source is not full', () => {
    const host = snapshot({
      portUsage: usage(
        3,
        { ESTABLISHED: 3 },
        { poolSize: 10, range: [40000, 40009], localAddress: '10.0.0.10' },
      ),
    });
    const diagnosis = diagnose(
      connectFailure('10.0.0.9', 5432, 'EADDRINUSE', { localAddress: '10.0.0.10' }),
      host,
    );
    expect(diagnosis.cause).toBe('unknown');
    expect(diagnosis.evidence['portUsage']).toMatchObject({ inUse: 3, poolSize: 10 });
  });
});

describe('ephemeral-ports-exhausted when the port range could not be read', () => {
  it('says the pool size is not known instead of computing one from the default range', () => {
    const unread = sysctls({ unreadable: { 'net.ipv4.ip_local_port_range': 'EACCES' } });
    delete unread.ipLocalPortRange;
    const host = snapshot({
      sysctls: unread,
      portUsage: usage(
        500,
        { TIME_WAIT: 500 },
        {
          range: [NaN, NaN],
          reserved: NaN,
          poolSize: NaN,
          usage: NaN,
          notRead: 'net.ipv4.ip_local_port_range: EACCES',
        },
      ),
    });
    const diagnosis = diagnose(connectFailure('10.0.0.9', 5432, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.cause).toBe('ephemeral-ports-exhausted');
    expect(diagnosis.summary).toBe(
      "Out of source ports toward 10.0.0.9:5432: connect failed with EADDRNOTAVAIL; 500 sockets hold ports toward it (the pool's size could not be read)",
    );
    expect(diagnosis.details).toContain(
      "The local port range (net.ipv4.ip_local_port_range) could not be read (EACCES), so the pool's size is not known.",
    );
    const text = JSON.stringify(diagnosis);
    expect(text).not.toMatch(/32768|28,232|NaN/);
    expect(diagnosis.remediation[0]?.title).toMatch(
      /^Read net\.ipv4\.ip_local_port_range \(safebind could not\)/,
    );
  });
});
