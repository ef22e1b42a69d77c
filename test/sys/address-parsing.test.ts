// Addresses, ports and HOST:PORT targets from configuration parse into typed values, and anything
// else fails with the exact reason a person reads. Scopes are resolved against the interfaces of a
// private namespace, so the lists in the reasons are known.
import { describe, expect, it } from 'vitest';
import { parseIp, type Ip } from '../../lib/model/index.js';
import { formatHost, formatTarget, parseHost, parsePort, parseTarget } from '../../lib/sys/index.js';
import { netnsIt } from '../helpers/netns.js';

describe('parseHost', () => {
  it.each([
    ['1.2.3.4', { address: '1.2.3.4', family: 4, linkLocal: false }],
    ['fd00::1', { address: 'fd00::1', family: 6, linkLocal: false }],
    ['FD00:0:0::1', { address: 'fd00::1', family: 6, linkLocal: false }],
    ['[fd00::1]', { address: 'fd00::1', family: 6, linkLocal: false }],
    ['::ffff:1.2.3.4', { address: '::ffff:1.2.3.4', family: 6, mapped: '1.2.3.4', linkLocal: false }],
    ['::ffff:0102:0304', { address: '::ffff:1.2.3.4', family: 6, mapped: '1.2.3.4', linkLocal: false }],
    ['fe80::1', { address: 'fe80::1', family: 6, linkLocal: true }],
    ['febf::1', { address: 'febf::1', family: 6, linkLocal: true }],
    ['fec0::1', { address: 'fec0::1', family: 6, linkLocal: false }],
    ['::', { address: '::', family: 6, linkLocal: false }],
  ])('reads %s', (input, expected) => {
    expect(parseHost(input)).toEqual({ ok: true, value: { ...expected, ip: parseIp(expected.address) } });
  });

  it.each([
    ['', 'the address is empty'],
    ['   ', '"   " contains whitespace'],
    [' 1.2.3.4', '" 1.2.3.4" contains whitespace'],
    ['1.2.3.4.5', '"1.2.3.4.5" is not an IPv4 or IPv6 address: an IPv4 address has 4 parts, not 5'],
    ['999.1.1.1', '"999.1.1.1" is not an IPv4 or IPv6 address: 999 is greater than 255'],
    ['01.2.3.4', '"01.2.3.4" is not an IPv4 or IPv6 address: 01 has a leading zero'],
    ['nonsense', '"nonsense" is not an IPv4 or IPv6 address (a host name cannot be bound; give an address)'],
    ['fd00::1::2', '"fd00::1::2" is not an IPv4 or IPv6 address'],
    ['1.2.3.4%eth0', '"1.2.3.4%eth0": a scope (%eth0) applies only to IPv6 addresses'],
    ['fe80::1%', '"fe80::1%" has an empty scope after "%"'],
    ['fe80::1%0', '"fe80::1%0": scope id 0 names no interface'],
    [
      'fe80::1%averyveryverylongname',
      '"fe80::1%averyveryverylongname": "averyveryverylongname" cannot be an interface name: it is 21 bytes long, and an interface name has at most 15',
    ],
    ['fe80::1%lo\0evil', '"fe80::1%lo\\u0000evil" contains a NUL byte'],
    [
      'fe80::1%a:b',
      '"fe80::1%a:b": "a:b" cannot be an interface name: an interface name has no "/", ":" or whitespace',
    ],
    [
      '1'.repeat(301),
      'the address is 301 characters long: no address, host name or target has more than 300',
    ],
  ])('refuses %j', (input, reason) => {
    expect(parseHost(input)).toEqual({ ok: false, reason });
  });

  it('throws a TypeError for a value that is not a string', () => {
    expect(() => parseHost(1234 as unknown as string)).toThrow(TypeError);
    expect(() => parseHost(undefined as unknown as string)).toThrow(TypeError);
  });

  netnsIt('resolves %name and %index scopes to the interface of this namespace', (ns) => {
    ns.run('ip link add sbeth0 type veth peer name sbeth1');
    const [link] = JSON.parse(ns.run('ip -j link show sbeth0')) as Array<{ ifindex: number }>;
    const index = link?.ifindex;
    expect(parseHost('fe80::1%sbeth0')).toEqual({
      ok: true,
      value: {
        address: 'fe80::1',
        family: 6,
        scopeId: index,
        interface: 'sbeth0',
        linkLocal: true,
        ip: parseIp('fe80::1'),
      },
    });
    expect(parseHost(`fe80::1%${index}`)).toEqual({
      ok: true,
      value: {
        address: 'fe80::1',
        family: 6,
        scopeId: index,
        interface: 'sbeth0',
        linkLocal: true,
        ip: parseIp('fe80::1'),
      },
    });
    expect(parseHost('fe80::1%lo')).toMatchObject({ ok: true, value: { scopeId: 1, interface: 'lo' } });
  });

  netnsIt('an unknown interface is a failure that lists the interfaces there are', () => {
    expect(parseHost('fe80::1%eth0')).toEqual({
      ok: false,
      reason: '"fe80::1%eth0": no interface named "eth0" (interfaces here: lo 1)',
    });
    expect(parseHost('fe80::1%7')).toEqual({
      ok: false,
      reason: '"fe80::1%7": no interface has index 7 (interfaces here: lo 1)',
    });
  });
});

describe('parsePort', () => {
  it.each([
    [0, 0],
    [80, 80],
    [65535, 65535],
    ['8080', 8080],
    ['0', 0],
  ] as const)('reads %j', (input, port) => {
    expect(parsePort(input)).toEqual({ ok: true, value: port });
  });

  it.each([
    [70000, 'port 70000 is out of range 0-65535'],
    [-1, 'port -1 is out of range 0-65535'],
    [80.5, 'port 80.5 is not an integer'],
    [Number.NaN, 'port NaN is not an integer'],
    ['70000', 'port 70000 is out of range 0-65535'],
    ['80a', 'port "80a" is not a number'],
    [' 80', 'port " 80" is not a number'],
    ['0x50', 'port "0x50" is not a number'],
    ['1e3', 'port "1e3" is not a number'],
    ['-1', 'port "-1" is not a number'],
    ['', 'port "" is not a number'],
  ] as const)('refuses %j', (input, reason) => {
    expect(parsePort(input)).toEqual({ ok: false, reason });
  });

  it('throws a TypeError for a value that is neither number nor string', () => {
    expect(() => parsePort(null as unknown as number)).toThrow(TypeError);
  });
});

describe('parseTarget', () => {
  it('reads IPv4 and bracketed IPv6 targets', () => {
    expect(parseTarget('10.0.0.50:8080')).toEqual({
      ok: true,
      value: {
        kind: 'address',
        host: '10.0.0.50',
        port: 8080,
        address: { address: '10.0.0.50', family: 4, linkLocal: false, ip: parseIp('10.0.0.50') },
      },
    });
    expect(parseTarget('[fd00::1]:443')).toEqual({
      ok: true,
      value: {
        kind: 'address',
        host: 'fd00::1',
        port: 443,
        address: { address: 'fd00::1', family: 6, linkLocal: false, ip: parseIp('fd00::1') },
      },
    });
    expect(parseTarget('[::ffff:10.0.0.1]:80')).toMatchObject({
      ok: true,
      value: { address: { mapped: '10.0.0.1' } },
    });
  });

  it('reads a host name as a name, for connect targets', () => {
    expect(parseTarget('host.name:80')).toEqual({
      ok: true,
      value: { kind: 'name', host: 'host.name', port: 80 },
    });
    expect(parseTarget('localhost:0')).toEqual({
      ok: true,
      value: { kind: 'name', host: 'localhost', port: 0 },
    });
  });

  netnsIt('reads a scoped link-local target', () => {
    expect(parseTarget('[fe80::1%lo]:80')).toEqual({
      ok: true,
      value: {
        kind: 'address',
        host: 'fe80::1%lo',
        port: 80,
        address: {
          address: 'fe80::1',
          family: 6,
          scopeId: 1,
          interface: 'lo',
          linkLocal: true,
          ip: parseIp('fe80::1'),
        },
      },
    });
    expect(parseTarget('[fe80::1%eth0]:80')).toEqual({
      ok: false,
      reason: '"fe80::1%eth0": no interface named "eth0" (interfaces here: lo 1)',
    });
  });

  it.each([
    ['', 'the target is empty'],
    ['  ', '"  " contains whitespace'],
    ['10.0.0.1:80 ', '"10.0.0.1:80 " contains whitespace'],
    ['nonsense', '"nonsense" has no port: write HOST:PORT, or [IPV6]:PORT'],
    ['10.0.0.50', '"10.0.0.50" has no port: write HOST:PORT, or [IPV6]:PORT'],
    ['999.1.1.1:80', '"999.1.1.1" is not an IPv4 or IPv6 address: 999 is greater than 255'],
    ['1.2.3.4.5:80', '"1.2.3.4.5" is not an IPv4 or IPv6 address: an IPv4 address has 4 parts, not 5'],
    ['127.0.0.1:70000', '"127.0.0.1:70000": port 70000 is out of range 0-65535'],
    ['127.0.0.1:http', '"127.0.0.1:http": port "http" is not a number'],
    ['127.0.0.1:', '"127.0.0.1:" has no port after ":"'],
    [':80', '":80" has no host: write 0.0.0.0:80 or [::]:80 for every address'],
    ['[::1:80', '"[::1:80" has "[" without a closing "]"'],
    ['[::1]', '"[::1]" has no port: write [::1]:PORT'],
    ['[::1]80', '"[::1]80": expected ":PORT" after "]"'],
    ['[]:80', '"[]:80" has no address inside the brackets'],
    ['[1.2.3.4]:80', '"[1.2.3.4]:80": brackets are for IPv6 addresses; write 1.2.3.4:80'],
    ['::1:80', '"::1:80" is ambiguous: write an IPv6 address in brackets, as [::1]:80, or [::1:80]:PORT'],
    [
      'fd00::1:443',
      '"fd00::1:443" is ambiguous: write an IPv6 address in brackets, as [fd00::1]:443, or [fd00::1:443]:PORT',
    ],
    ['::1', '"::1" is an IPv6 address without a port: write [::1]:PORT'],
    [
      'fe80::1%eth0:80',
      '"fe80::1%eth0:80" is ambiguous: write an IPv6 address in brackets, as [fe80::1%eth0]:80',
    ],
    ['fd00::7]:443', '"fd00::7]:443" has "]" without an opening "["'],
    [
      '1.2.3.4:80:90',
      '"1.2.3.4:80:90" has more than one ":" and is no IPv6 address: write HOST:PORT, or [IPV6]:PORT',
    ],
    [
      '[host.name]:80',
      '"host.name" is not an IPv4 or IPv6 address (a host name cannot be bound; give an address)',
    ],
    ['under_score:80', '"under_score" is not an IP address or a host name'],
    ['-bad.example:80', '"-bad.example" is not an IP address or a host name'],
  ])('refuses %j', (input, reason) => {
    expect(parseTarget(input)).toEqual({ ok: false, reason });
  });
});

describe('formatting', () => {
  it('writes hosts and targets the way parseTarget reads them back', () => {
    const v6 = parseIp('fe80::1') as Ip;
    expect(formatTarget('10.0.0.50', 8080)).toBe('10.0.0.50:8080');
    expect(formatTarget('fd00::1', 443)).toBe('[fd00::1]:443');
    expect(formatTarget('fe80::1%eth0', 80)).toBe('[fe80::1%eth0]:80');
    expect(
      formatHost({ address: 'fe80::1', family: 6, scopeId: 2, interface: 'eth0', linkLocal: true, ip: v6 }),
    ).toBe('fe80::1%eth0');
    expect(formatHost({ address: 'fe80::1', family: 6, scopeId: 2, linkLocal: true, ip: v6 })).toBe(
      'fe80::1%2',
    );
  });
});
