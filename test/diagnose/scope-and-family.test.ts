// bind EINVAL and EAFNOSUPPORT: link-local without a scope id, IPv4 asked of an IPv6-only socket,
// and a kernel without IPv6.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../lib/diagnose/index.js';
import { addr, bindFailure, snapshot, socketError, sysctls } from './fixtures.js';

describe('scope-id-required', () => {
  it('a link-local bind without a scope id lists the interfaces that carry link-local addresses', () => {
    const addresses = [
      addr('lo', '::1', 128),
      addr('eth0', 'fe80::1', 64),
      addr('eth1', 'fe80::a00:27ff:fe00:2', 64),
    ];
    const diagnosis = diagnose(bindFailure('fe80::1', 80, 'EINVAL'), snapshot({ addresses }));
    expect(diagnosis.cause).toBe('scope-id-required');
    expect(diagnosis.summary).toBe(
      'Cannot bind [fe80::1]:80: link-local fe80::1 needs its interface, as fe80::1%eth0',
    );
    expect(diagnosis.evidence['owners']).toEqual(['eth0']);
    expect(diagnosis.evidence['linkLocal']).toEqual([
      { interface: 'eth0', address: 'fe80::1' },
      { interface: 'eth1', address: 'fe80::a00:27ff:fe00:2' },
    ]);
    expect(diagnosis.remediation.map((remedy) => remedy.option)).toEqual([
      "host: 'fe80::1%eth0'",
      "device: 'eth0'",
    ]);
    expect(diagnosis.remediation[0]?.title).toBe('Name the interface in the address: fe80::1%eth0 (or eth1)');
  });

  it('a link-local address owned by eth1 suggests eth1 first', () => {
    const addresses = [addr('eth0', 'fe80::1', 64), addr('eth1', 'fe80::2', 64)];
    const diagnosis = diagnose(bindFailure('fe80::2', 80, 'EINVAL'), snapshot({ addresses }));
    expect(diagnosis.remediation[0]?.option).toBe("host: 'fe80::2%eth1'");
  });

  it('a link-local bind that already names its interface is not blamed on the scope id', () => {
    const diagnosis = diagnose(bindFailure('fe80::1%eth0', 80, 'EINVAL'), snapshot());
    expect(diagnosis.cause).toBe('unknown');
  });
});

describe('family-unavailable', () => {
  it('a mapped IPv4 address on an IPv6-only socket is family-unavailable with ipv6Only: false first', () => {
    const diagnosis = diagnose(bindFailure('::ffff:127.0.0.1', 80, 'EINVAL', { ipv6Only: true }), snapshot());
    expect(diagnosis.cause).toBe('family-unavailable');
    expect(diagnosis.summary).toBe(
      'Cannot bind [::ffff:127.0.0.1]:80: ::ffff:127.0.0.1 is the IPv4 address 127.0.0.1, and the socket is IPv6-only',
    );
    expect(diagnosis.remediation.map((remedy) => remedy.option)).toEqual([
      'ipv6Only: false',
      "host: '127.0.0.1'",
    ]);
  });

  it('a mapped address on a socket known to be dual-stack is not called IPv6-only', () => {
    const diagnosis = diagnose(
      bindFailure('::ffff:127.0.0.1', 80, 'EINVAL', { ipv6Only: false }),
      snapshot(),
    );
    expect(diagnosis.cause).toBe('unknown');
  });

  it('EAFNOSUPPORT on a kernel without IPv6 says the kernel has none', () => {
    const failure = {
      ...bindFailure('::', 80, 'EAFNOSUPPORT'),
      error: socketError('socket', 'EAFNOSUPPORT'),
    };
    const host = snapshot({
      sysctls: sysctls({ disableIpv6: { absent: true, all: false, default: false, interfaces: {} } }),
    });
    const diagnosis = diagnose(failure, host);
    expect(diagnosis.cause).toBe('family-unavailable');
    expect(diagnosis.code).toBe('EAFNOSUPPORT');
    expect(diagnosis.summary).toBe(
      'IPv6 is not available on this host: socket() failed with EAFNOSUPPORT for [::]:80',
    );
    expect(diagnosis.details).toContain(
      'This kernel has no IPv6: /proc/sys/net/ipv6 is missing (booted with ipv6.disable=1, or built without IPv6).',
    );
    expect(diagnosis.remediation[0]?.option).toBe("host: '0.0.0.0'");
  });
});
