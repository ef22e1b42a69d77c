// bind EADDRNOTAVAIL for an address the host lists: appeared since, tentative (no carrier vs DAD
// running), DAD failed, and the IPv4 address on a down link that is not the cause.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../lib/diagnose/index.js';
import { addr, bindFailure, snapshot, standardAddresses, sysctls } from './fixtures.js';

describe('address-appeared', () => {
  it('an address that binds on the probe after the failure explains a start-up race', () => {
    const addresses = [...standardAddresses(), addr('eth0', '10.0.0.50', 24, ['secondary'])];
    const diagnosis = diagnose(
      bindFailure('10.0.0.50', 8080, 'EADDRNOTAVAIL'),
      snapshot({ addresses, rebind: { ok: true } }),
    );
    expect(diagnosis.cause).toBe('address-appeared');
    expect(diagnosis.summary).toBe(
      '10.0.0.50 is on eth0 now and binds: bind 10.0.0.50:8080 ran before the address was ready (a start-up race)',
    );
    expect(diagnosis.evidence['rebind']).toEqual({ ok: true });
    expect(diagnosis.remediation.map((remedy) => remedy.option ?? remedy.commands?.[0])).toEqual([
      'waitForAddress: 30000',
      'freebind: true',
      '[Unit]',
    ]);
  });

  it('a probe bind that succeeds wins even when the address list read earlier lacks the address', () => {
    const diagnosis = diagnose(
      bindFailure('10.0.0.50', 8080, 'EADDRNOTAVAIL'),
      snapshot({ rebind: { ok: true } }),
    );
    expect(diagnosis.cause).toBe('address-appeared');
    expect(diagnosis.details).toContain(
      '10.0.0.50 was not in the address list read, but the probe bind below found it bindable.',
    );
  });

  it('an IPv4 address now present on a DOWN interface, without a probe, is a race and the link is not blamed', () => {
    const addresses = [addr('lo', '127.0.0.1', 8), { ...addr('eth2', '10.2.0.5', 24), flags: ['broadcast'] }];
    const diagnosis = diagnose(bindFailure('10.2.0.5', 80, 'EADDRNOTAVAIL'), snapshot({ addresses }));
    expect(diagnosis.cause).toBe('address-appeared');
    expect(diagnosis.details).toContain(
      'eth2 is down, but IPv4 addresses bind whatever the link state: the link is not why the bind failed.',
    );
  });
});

describe('present but not bindable', () => {
  it('an IPv4 address present on a DOWN interface whose probe bind also fails is unknown, and says the link is not the cause', () => {
    const addresses = [addr('lo', '127.0.0.1', 8), { ...addr('eth2', '10.2.0.5', 24), flags: [] }];
    const diagnosis = diagnose(
      bindFailure('10.2.0.5', 80, 'EADDRNOTAVAIL'),
      snapshot({ addresses, rebind: { ok: false, code: 'EADDRNOTAVAIL' } }),
    );
    expect(diagnosis.cause).toBe('unknown');
    expect(diagnosis.details).toContain(
      'eth2 is down, but IPv4 addresses bind whatever the link state: the link is not the cause.',
    );
    expect(diagnosis.remediation[0]?.commands).toEqual(['readlink /proc/self/ns/net']);
  });
});

describe('address-tentative', () => {
  const tentative = (flags: string[]) => [
    addr('lo', '127.0.0.1', 8),
    { ...addr('eth0', 'fd00::50', 64), flags: [...flags, 'tentative'] },
  ];

  it('a tentative address on a link without carrier says so and puts bringing the link up first', () => {
    const diagnosis = diagnose(
      bindFailure('fd00::50', 443, 'EADDRNOTAVAIL'),
      snapshot({ addresses: tentative(['up']) }),
    );
    expect(diagnosis.cause).toBe('address-tentative');
    expect(diagnosis.summary).toBe(
      'Cannot bind [fd00::50]:443: fd00::50 on eth0 is tentative and eth0 has no carrier; DAD starts once the link has had carrier since it was brought up',
    );
    expect(diagnosis.evidence).toMatchObject({ interface: 'eth0', up: true, carrier: false });
    expect(diagnosis.remediation[0]?.commands).toEqual(['ip link show eth0', 'ip link set eth0 up']);
    expect(diagnosis.remediation[1]?.option).toBe('freebind: true');
    expect(diagnosis.remediation[3]?.commands).toEqual([
      'ip addr del fd00::50/64 dev eth0',
      'ip addr add fd00::50/64 dev eth0 nodad',
      '# or for every address of the link: sysctl -w net.ipv6.conf.eth0.accept_dad=0',
    ]);
    expect(diagnosis.remediation[3]?.warning).toMatch(/Without DAD/);
  });

  it('a tentative address on a down interface asks for ip link set up', () => {
    const diagnosis = diagnose(
      bindFailure('fd00::50', 443, 'EADDRNOTAVAIL'),
      snapshot({ addresses: tentative([]) }),
    );
    expect(diagnosis.cause).toBe('address-tentative');
    expect(diagnosis.evidence).toMatchObject({ up: false, carrier: false });
    expect(diagnosis.remediation[0]?.commands).toEqual(['ip link set eth0 up', 'ip link show eth0']);
  });

  it('a tentative address on a link with carrier explains DAD still running with dad_transmits of that interface', () => {
    const host = snapshot({
      addresses: tentative(['up', 'running']),
      sysctls: sysctls({ dadTransmits: { all: 1, default: 1, eth0: 3 } }),
    });
    const diagnosis = diagnose(bindFailure('fd00::50', 443, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.cause).toBe('address-tentative');
    expect(diagnosis.summary).toBe(
      'Cannot bind [fd00::50]:443: fd00::50 on eth0 is still tentative, duplicate address detection is running (dad_transmits = 3, about 3 s)',
    );
    expect(diagnosis.evidence).toMatchObject({ carrier: true, dadTransmits: 3, acceptDad: 1 });
    expect(diagnosis.remediation.map((remedy) => remedy.option ?? remedy.commands?.[1])).toEqual([
      'waitForAddress: 30000',
      'freebind: true',
      'ip addr add fd00::50/64 dev eth0 nodad',
    ]);
  });
});

describe('address-dad-failed', () => {
  it('an address marked dadfailed names the link, how to find the other owner, and warns against nodad', () => {
    const addresses = [
      addr('lo', '127.0.0.1', 8),
      { ...addr('eth0', 'fd00::50', 64), flags: ['up', 'running', 'dadfailed', 'tentative'] },
    ];
    const diagnosis = diagnose(bindFailure('fd00::50', 443, 'EADDRNOTAVAIL'), snapshot({ addresses }));
    expect(diagnosis.cause).toBe('address-dad-failed');
    expect(diagnosis.summary).toBe(
      'Cannot bind [fd00::50]:443: fd00::50 failed duplicate address detection on eth0, another host on the link already uses it',
    );
    expect(diagnosis.remediation.map((r) => r.title)).toEqual([
      'Find the other host that uses fd00::50 on eth0: its MAC address may be in the neighbour table, or ask the link with ndisc6 (if it is missing, it is in the ndisc6 package: apt-get install ndisc6 on Debian and Ubuntu)',
      'Or give this host another address on eth0',
      'Once the other host no longer uses fd00::50, remove it and add it again, so that the kernel checks the link once more',
    ]);
    expect(diagnosis.remediation[0]?.commands).toEqual([
      'ip -6 neigh show fd00::50 dev eth0',
      'ndisc6 fd00::50 eth0',
    ]);
    expect(diagnosis.remediation[0]?.warning).toMatch(/nodad/);
    expect(diagnosis.remediation[1]?.commands).toEqual([
      'ip addr del fd00::50/64 dev eth0',
      "ip addr add '<another address>'/64 dev eth0",
    ]);
  });

  it('the commands to find the other host quote an interface name the shell would read', () => {
    const addresses = [{ ...addr('a$(id)', 'fd00::50', 64), flags: ['up', 'dadfailed', 'tentative'] }];
    const diagnosis = diagnose(bindFailure('fd00::50', 443, 'EADDRNOTAVAIL'), snapshot({ addresses }));
    expect(diagnosis.remediation[0]?.commands).toEqual([
      "ip -6 neigh show fd00::50 dev 'a$(id)'",
      "ndisc6 fd00::50 'a$(id)'",
    ]);
  });

  it('a dadfailed address is not mistaken for a race without a probe', () => {
    const addresses = [
      { ...addr('eth0', 'fd00::50', 64), flags: ['up', 'running', 'dadfailed', 'tentative'] },
    ];
    expect(diagnose(bindFailure('fd00::50', 443, 'EADDRNOTAVAIL'), snapshot({ addresses })).cause).toBe(
      'address-dad-failed',
    );
  });

  it('with IPv6 nonlocal bind on, a tentative address carries the nonlocal note too', () => {
    const host = snapshot({
      addresses: [{ ...addr('eth0', 'fd00::50', 64), flags: ['up', 'running', 'tentative'] }],
      sysctls: sysctls({ ipNonlocalBind: { v4: false, v6: true } }),
    });
    const diagnosis = diagnose(bindFailure('fd00::50', 443, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.evidence['ipNonlocalBind']).toBe(true);
    expect(diagnosis.remediation[diagnosis.remediation.length - 1]?.commands?.[0]).toBe(
      'sysctl -w net.ipv6.ip_nonlocal_bind=0',
    );
  });
});
