// bind EADDRNOTAVAIL for an address the host does not have: address-not-local, source-not-local,
// family-unavailable for disabled IPv6, and the ip_nonlocal_bind note.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../lib/diagnose/index.js';
import { addr, bindFailure, connectFailure, snapshot, socketError, sysctls } from './fixtures.js';

function commandsOf(remediation: Array<{ commands?: string[] }>): string[] {
  return remediation.flatMap((remedy) => remedy.commands ?? []);
}

describe('address-not-local', () => {
  it("binding a VIP in eth0's subnet that is not attached explains address-not-local and names eth0's subnet", () => {
    const diagnosis = diagnose(bindFailure('10.0.0.50', 8080, 'EADDRNOTAVAIL'), snapshot());
    expect(diagnosis.cause).toBe('address-not-local');
    expect(diagnosis.code).toBe('EADDRNOTAVAIL');
    expect(diagnosis.summary).toBe(
      "Cannot bind 10.0.0.50:8080: 10.0.0.50 is not an address of this host (it is in eth0's subnet 10.0.0.0/24 but not attached)",
    );
    expect(diagnosis.evidence['subnet']).toEqual({
      interface: 'eth0',
      network: '10.0.0.0',
      prefixLength: 24,
      cidr: '10.0.0.0/24',
      address: '10.0.0.10',
    });
    expect(diagnosis.details).toContain(
      "10.0.0.50 lies in eth0's subnet 10.0.0.0/24 (eth0 has 10.0.0.10/24): an address meant for that link (a VIP, secondary or DHCP address) that is not attached yet, or was removed.",
    );
    // Nothing asked the link whether another host has it (a VIP its peer holds): asking comes first.
    expect(diagnosis.details).toContain(
      'Whether another host on eth0 answers for 10.0.0.50 was not asked (no probe): a VIP its peer holds looks the same from here.',
    );
    expect(diagnosis.remediation[0]?.commands).toEqual(['safebind preflight --probe --bind 10.0.0.50:8080']);
    expect(diagnosis.remediation[1]?.commands).toEqual(['ip addr add 10.0.0.50/24 dev eth0']);
    expect(diagnosis.remediation[1]?.warning).toMatch(/^Adding an address another host holds takes it over/);
    expect(diagnosis.remediation.map((remedy) => remedy.option).filter(Boolean)).toEqual([
      'freebind: true',
      'waitForAddress: 30000',
    ]);
    expect(diagnosis.remediation[4]?.commands).toEqual([
      '[Unit]',
      'Wants=network-online.target',
      'After=network-online.target',
    ]);
    // Asked, and nobody answered: the add is the first fix.
    const asked = diagnose(bindFailure('10.0.0.50', 8080, 'EADDRNOTAVAIL'), {
      ...snapshot(),
      linkAsked: true,
    });
    expect(asked.remediation[0]?.commands).toEqual(['ip addr add 10.0.0.50/24 dev eth0']);
    expect(JSON.stringify(asked.remediation)).not.toContain('--probe');
    const nonlocal = diagnosis.remediation[5];
    expect(nonlocal?.commands).toEqual([
      'sysctl -w net.ipv4.ip_nonlocal_bind=1',
      "echo 'net.ipv4.ip_nonlocal_bind = 1' > /etc/sysctl.d/90-ipv4-ip-nonlocal-bind.conf",
    ]);
    expect(nonlocal?.warning).toMatch(/every process on the host bind addresses the host does not own/);
    expect(diagnosis.evidence['ipNonlocalBind']).toBeUndefined();
  });

  it('an address in no subnet gets a /32 on the only non-loopback interface of its family', () => {
    const addresses = [addr('lo', '127.0.0.1', 8), addr('ens3', '10.0.0.10', 24)];
    const diagnosis = diagnose(bindFailure('203.0.113.7', 443, 'EADDRNOTAVAIL'), snapshot({ addresses }));
    expect(diagnosis.cause).toBe('address-not-local');
    expect(diagnosis.evidence['subnet']).toBeUndefined();
    expect(diagnosis.summary).toBe('Cannot bind 203.0.113.7:443: 203.0.113.7 is not an address of this host');
    expect(diagnosis.remediation[0]?.commands).toEqual(['ip addr add 203.0.113.7/32 dev ens3']);
    expect(diagnosis.details).toContain(
      "No interface's subnet contains 203.0.113.7: check the configured address for a typo, or whether it belongs to another host.",
    );
  });

  it('an address in no subnet with several candidate interfaces leaves the interface as a placeholder', () => {
    const diagnosis = diagnose(bindFailure('203.0.113.7', 443, 'EADDRNOTAVAIL'), snapshot());
    expect(diagnosis.remediation[0]?.commands).toEqual(["ip addr add 203.0.113.7/32 dev '<interface>'"]);
  });

  it('an absent IPv6 address gets its /64 on eth0 and the IPv6 nonlocal sysctl', () => {
    const diagnosis = diagnose(bindFailure('fd00::50', 443, 'EADDRNOTAVAIL'), snapshot());
    expect(diagnosis.cause).toBe('address-not-local');
    expect(diagnosis.summary).toBe(
      "Cannot bind [fd00::50]:443: fd00::50 is not an address of this host (it is in eth0's subnet fd00::/64 but not attached)",
    );
    expect(commandsOf(diagnosis.remediation)).toContain('ip addr add fd00::50/64 dev eth0');
    expect(commandsOf(diagnosis.remediation)).toContain('sysctl -w net.ipv6.ip_nonlocal_bind=1');
  });

  it('a mapped ::ffff:a.b.c.d whose IPv4 is not local is explained about the IPv4 address', () => {
    const diagnosis = diagnose(bindFailure('::ffff:192.168.1.77', 80, 'EADDRNOTAVAIL'), snapshot());
    expect(diagnosis.cause).toBe('address-not-local');
    expect(diagnosis.evidence['ipv4']).toBe('192.168.1.77');
    expect(diagnosis.details).toContain(
      '::ffff:192.168.1.77 is the IPv4 address 192.168.1.77 mapped into IPv6; the kernel binds it as 192.168.1.77.',
    );
    expect(diagnosis.remediation[1]?.commands).toEqual(['ip addr add 192.168.1.77/24 dev eth1']);
    expect(commandsOf(diagnosis.remediation)).toContain('sysctl -w net.ipv4.ip_nonlocal_bind=1');
  });

  it('with ip_nonlocal_bind on, adds the note, the evidence flag and the warning, and does not suggest turning it on', () => {
    const host = snapshot({ sysctls: sysctls({ ipNonlocalBind: { v4: true, v6: false } }) });
    const diagnosis = diagnose(bindFailure('10.0.0.50', 8080, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.cause).toBe('address-not-local');
    expect(diagnosis.evidence['ipNonlocalBind']).toBe(true);
    expect(
      diagnosis.details.some((line) => line.startsWith('net.ipv4.ip_nonlocal_bind is 1 on this host now')),
    ).toBe(true);
    const last = diagnosis.remediation[diagnosis.remediation.length - 1];
    expect(last?.commands?.[0]).toBe('sysctl -w net.ipv4.ip_nonlocal_bind=0');
    expect(last?.warning).toMatch(/does not own/);
    expect(commandsOf(diagnosis.remediation)).not.toContain('sysctl -w net.ipv4.ip_nonlocal_bind=1');
  });

  it('an IPv6 nonlocal setting does not bear on an IPv4 bind', () => {
    const host = snapshot({ sysctls: sysctls({ ipNonlocalBind: { v4: false, v6: true } }) });
    const diagnosis = diagnose(bindFailure('10.0.0.50', 8080, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.evidence['ipNonlocalBind']).toBeUndefined();
  });

  it('a probe bind that succeeds only because ip_nonlocal_bind is on does not count as the address appearing', () => {
    const host = snapshot({
      rebind: { ok: true },
      sysctls: sysctls({ ipNonlocalBind: { v4: true, v6: false } }),
    });
    expect(diagnose(bindFailure('10.0.0.50', 8080, 'EADDRNOTAVAIL'), host).cause).toBe('address-not-local');
  });

  it('says the address list could not be read instead of claiming absence', () => {
    const host = snapshot({
      addresses: undefined,
      unavailable: ['addresses: netlink RTM_GETADDR failed (EPERM)'],
    });
    const diagnosis = diagnose(bindFailure('10.0.0.50', 8080, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.cause).toBe('address-not-local');
    expect(diagnosis.details).toContain(
      'The address list of this host could not be read, so this rests on the error code alone.',
    );
    expect(diagnosis.details).toContain('Not checked: addresses: netlink RTM_GETADDR failed (EPERM).');
    expect(diagnosis.evidence['unavailable']).toEqual(['addresses: netlink RTM_GETADDR failed (EPERM)']);
  });

  it('a Node listen error without a local endpoint is read from the error itself', () => {
    const failure = {
      ...bindFailure('10.0.0.50', 8080, 'EADDRNOTAVAIL'),
      operation: 'listen' as const,
      local: undefined,
      error: socketError('listen', 'EADDRNOTAVAIL', '10.0.0.50', 8080),
    };
    const diagnosis = diagnose(failure, snapshot());
    expect(diagnosis.cause).toBe('address-not-local');
    expect(diagnosis.remediation[1]?.commands).toEqual(['ip addr add 10.0.0.50/24 dev eth0']);
  });
});

describe('source-not-local', () => {
  it('a connect whose localAddress is on no interface explains source-not-local with the subnet and a present address', () => {
    const failure = connectFailure('10.0.0.9', 5432, 'EADDRNOTAVAIL', {
      localAddress: '10.0.0.77',
      syscall: 'bind',
    });
    const diagnosis = diagnose(failure, snapshot());
    expect(diagnosis.cause).toBe('source-not-local');
    expect(diagnosis.summary).toBe(
      "Cannot connect to 10.0.0.9:5432 from 10.0.0.77: the source address 10.0.0.77 is not an address of this host (it is in eth0's subnet 10.0.0.0/24 but not attached)",
    );
    expect(diagnosis.evidence['destination']).toBe('10.0.0.9:5432');
    expect(diagnosis.remediation[0]?.commands).toEqual(['safebind preflight --probe --bind 10.0.0.77:0']);
    expect(diagnosis.remediation[1]?.commands).toEqual(['ip addr add 10.0.0.77/24 dev eth0']);
    expect(diagnosis.remediation[2]?.option).toBe("localAddress: '10.0.0.10'");
    expect(diagnosis.remediation[3]?.option).toBe('freebind: true');
    // waitForAddress is a bind's option: neither safeConnect nor net.connect takes it.
    expect(diagnosis.remediation.map((r) => r.option)).not.toContain('waitForAddress: 30000');
    expect(diagnosis.remediation[4]?.title).toMatch(
      /^If 10\.0\.0\.77 is still coming up .*retry with a backoff/,
    );
  });
});

describe('family-unavailable for disabled IPv6', () => {
  it('an IPv6 bind with disable_ipv6 on all interfaces is family-unavailable, with the sysctl to undo it', () => {
    const host = snapshot({
      addresses: [addr('lo', '127.0.0.1', 8), addr('eth0', '10.0.0.10', 24)],
      sysctls: sysctls({
        disableIpv6: { absent: false, all: true, default: true, interfaces: { lo: true, eth0: true } },
      }),
    });
    const diagnosis = diagnose(bindFailure('::1', 8080, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.cause).toBe('family-unavailable');
    expect(diagnosis.summary).toBe(
      'Cannot bind [::1]:8080: IPv6 is disabled (net.ipv6.conf.all.disable_ipv6 = 1)',
    );
    expect(diagnosis.remediation[0]?.commands).toEqual([
      'grep -rn disable_ipv6 /etc/sysctl.conf /etc/sysctl.d/',
      'sysctl -w net.ipv6.conf.all.disable_ipv6=0',
      "echo 'net.ipv6.conf.all.disable_ipv6 = 0' > /etc/sysctl.d/90-ipv6-conf-all-disable-ipv6.conf",
    ]);
  });

  it('offers the IPv4 counterpart of the address and nothing wider: ::1 is 127.0.0.1, never 0.0.0.0', () => {
    const host = snapshot({
      addresses: [addr('lo', '127.0.0.1', 8), addr('eth0', '10.0.0.10', 24)],
      sysctls: sysctls({
        disableIpv6: { absent: false, all: true, default: true, interfaces: { lo: true, eth0: true } },
      }),
    });
    const options = (address: string) => {
      const diagnosis = diagnose(bindFailure(address, 8080, 'EADDRNOTAVAIL'), host);
      expect(diagnosis.cause).toBe('family-unavailable');
      return diagnosis.remediation.map((r) => r.option);
    };
    expect(options('::1')).toContain("host: '127.0.0.1'");
    expect(options('::1')).not.toContain("host: '0.0.0.0'");
    expect(options('fd00::10')).toContain("host: '<IPv4 address>'");
  });

  it('an IPv6 bind scoped to an interface with IPv6 disabled names that interface', () => {
    const host = snapshot({
      sysctls: sysctls({
        disableIpv6: {
          absent: false,
          all: false,
          default: false,
          interfaces: { lo: false, eth0: false, eth1: true },
        },
      }),
    });
    const diagnosis = diagnose(bindFailure('fd01::5', 80, 'EADDRNOTAVAIL', { device: 'eth1' }), host);
    expect(diagnosis.cause).toBe('family-unavailable');
    expect(diagnosis.summary).toBe(
      'Cannot bind [fd01::5]:80: IPv6 is disabled (net.ipv6.conf.eth1.disable_ipv6 = 1)',
    );
    expect(diagnosis.remediation[0]?.commands).toContain('sysctl -w net.ipv6.conf.eth1.disable_ipv6=0');
  });

  it('an IPv6 bind on a kernel without IPv6 is family-unavailable', () => {
    const host = snapshot({
      sysctls: sysctls({ disableIpv6: { absent: true, all: false, default: false, interfaces: {} } }),
    });
    const diagnosis = diagnose(bindFailure('fd00::10', 80, 'EADDRNOTAVAIL'), {
      ...host,
      addresses: [addr('eth0', '10.0.0.10', 24)],
    });
    expect(diagnosis.cause).toBe('family-unavailable');
    expect(diagnosis.summary).toBe('Cannot bind [fd00::10]:80: this kernel has no IPv6');
  });

  it('an IPv6 address absent while another interface has IPv6 disabled stays address-not-local but says so', () => {
    const host = snapshot({
      sysctls: sysctls({
        disableIpv6: {
          absent: false,
          all: false,
          default: false,
          interfaces: { lo: false, eth0: false, eth1: true },
        },
      }),
    });
    const diagnosis = diagnose(bindFailure('fd01::5', 80, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.cause).toBe('address-not-local');
    expect(diagnosis.details).toContain(
      'IPv6 is disabled on eth1 (disable_ipv6 = 1): if fd01::5 belongs there, it was removed with the rest of its IPv6 addresses.',
    );
  });
});

describe('address-on-other-host', () => {
  const master = { address: '10.0.0.50', family: 4 as const, interface: 'eth0', lladdr: '52:54:00:aa:bb:cc' };

  it('a VIP that another host on eth0 answers for is address-on-other-host, and ip addr add is never advised', () => {
    const diagnosis = diagnose(
      bindFailure('10.0.0.50', 8080, 'EADDRNOTAVAIL'),
      snapshot({ neighbours: [{ ...master, state: 'reachable' }] }),
    );
    expect(diagnosis.cause).toBe('address-on-other-host');
    expect(diagnosis.summary).toBe(
      'Cannot bind 10.0.0.50:8080: 10.0.0.50 is not on this host, and another host on eth0 answers for it (52:54:00:aa:bb:cc): it is live elsewhere, as a VIP on the VRRP master is',
    );
    expect(JSON.stringify(diagnosis.remediation)).not.toContain('ip addr add');
    expect(diagnosis.remediation[0]?.option).toBe('waitForAddress: 30000');
  });

  it('an unanswered (incomplete) entry, or one on another link, leaves it address-not-local', () => {
    for (const neighbours of [
      [{ address: '10.0.0.50', family: 4 as const, interface: 'eth0', state: 'incomplete' as const }],
      [{ ...master, interface: 'eth9', state: 'reachable' as const }],
    ]) {
      const diagnosis = diagnose(bindFailure('10.0.0.50', 8080, 'EADDRNOTAVAIL'), snapshot({ neighbours }));
      expect(diagnosis.cause).toBe('address-not-local');
    }
  });

  it('an IPv6 address answered for on eth0 (a stale entry counts) is address-on-other-host, with the IPv6 wording', () => {
    const owner = { address: 'fd00::50', family: 6 as const, interface: 'eth0', lladdr: '52:54:00:aa:bb:cd' };
    const d = diagnose(
      bindFailure('fd00:0::50', 8080, 'EADDRNOTAVAIL'),
      snapshot({ neighbours: [{ ...owner, state: 'stale' }] }),
    );
    expect(d.cause).toBe('address-on-other-host');
    expect(d.remediation.flatMap((r) => r.commands ?? [])).toEqual([
      'ip neigh show fd00::50 dev eth0',
      'ndisc6 fd00::50 eth0',
    ]);
    expect(JSON.stringify(d.remediation)).not.toContain('addr add');
    expect(d.details.join('\n')).toContain('a neighbour solicitation from this host');
  });

  it('a failed or multicast (noarp) IPv6 entry, or an IPv4 entry of the same text, leaves it address-not-local', () => {
    for (const neighbours of [
      [{ address: 'fd00::50', family: 6 as const, interface: 'eth0', state: 'failed' as const }],
      [
        {
          address: 'fd00::50',
          family: 6 as const,
          interface: 'eth0',
          lladdr: '33:33:00:00:00:50',
          state: 'noarp' as const,
        },
      ],
      [
        {
          address: 'fd00::50',
          family: 4 as const,
          interface: 'eth0',
          lladdr: '52:54:00:aa:bb:cd',
          state: 'reachable' as const,
        },
      ],
    ]) {
      const d = diagnose(bindFailure('fd00::50', 8080, 'EADDRNOTAVAIL'), snapshot({ neighbours }));
      expect(d.cause).toBe('address-not-local');
    }
  });
});
