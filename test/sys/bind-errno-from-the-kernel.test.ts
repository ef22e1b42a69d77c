// bind() failures come back from the real kernel as typed results with Node-style messages, each
// reproduced in its own network namespace: the facts the diagnose layer rests on (KERNEL-FACTS.md).
import { afterEach, describe, expect } from 'vitest';
import type { Family, Protocol, Result, SocketError } from '../../lib/types.js';
import {
  bind,
  closeSocket,
  listen,
  localAddress,
  newSocket,
  parseHost,
  setDevice,
  setFreebind,
  setIpv6Only,
  setReuseAddress,
  sockAddr,
  type SockAddr,
} from '../../lib/sys/index.js';
import { netnsIt, type Netns } from '../helpers/netns.js';

const open: number[] = [];
function socket(family: Family, protocol: Protocol = 'tcp'): number {
  const r = newSocket(family, protocol);
  if (!r.ok) throw new Error(r.error.message);
  open.push(r.value);
  return r.value;
}

afterEach(() => {
  for (const fd of open.splice(0)) closeSocket(fd);
});

function addr(text: string, port: number): SockAddr {
  const host = parseHost(text);
  if (!host.ok) throw new Error(host.reason);
  return sockAddr(host.value, port);
}

function failed(r: Result<unknown>): SocketError {
  if (r.ok) throw new Error('expected a failure, got success');
  return r.error;
}

function ipv6Flags(ns: Netns, dev: string, address: string): Record<string, unknown> | undefined {
  const links = JSON.parse(ns.run(`ip -j addr show dev ${dev}`)) as Array<{
    addr_info: Array<Record<string, unknown> & { local: string }>;
  }>;
  return links.flatMap((l) => l.addr_info).find((a) => a.local === address);
}

describe.each(['tcp', 'udp'] as const)('bind of an address on no interface (%s)', (protocol) => {
  netnsIt('IPv4 fails with EADDRNOTAVAIL (99) and a Node-style message', () => {
    const error = failed(bind(socket(4, protocol), addr('10.0.0.50', 8080)));
    expect(error).toEqual({
      syscall: 'bind',
      errno: 99,
      code: 'EADDRNOTAVAIL',
      message: 'bind EADDRNOTAVAIL 10.0.0.50:8080',
      address: '10.0.0.50',
      port: 8080,
    });
  });

  netnsIt('IPv6 fails with EADDRNOTAVAIL, the address printed without brackets as Node does', () => {
    const error = failed(bind(socket(6, protocol), addr('fd00::50', 443)));
    expect(error).toMatchObject({
      errno: 99,
      code: 'EADDRNOTAVAIL',
      message: 'bind EADDRNOTAVAIL fd00::50:443',
    });
  });

  netnsIt('IPv4 with IP_FREEBIND succeeds, and getsockname shows the address', () => {
    const fd = socket(4, protocol);
    expect(setFreebind(fd, 4, true).ok).toBe(true);
    expect(bind(fd, addr('10.0.0.50', 8080))).toEqual({ ok: true, value: undefined });
    expect(localAddress(fd)).toEqual({ ok: true, value: { address: '10.0.0.50', port: 8080, family: 4 } });
  });

  netnsIt('IPv6 with IPV6_FREEBIND succeeds', () => {
    const fd = socket(6, protocol);
    expect(setFreebind(fd, 6, true).ok).toBe(true);
    expect(bind(fd, addr('fd00::50', 443)).ok).toBe(true);
    expect(localAddress(fd)).toEqual({ ok: true, value: { address: 'fd00::50', port: 443, family: 6 } });
  });
});

describe('IPv6 addresses still in duplicate address detection', () => {
  netnsIt('an address on a link without carrier stays tentative and its bind fails', (ns) => {
    ns.sh('ip link add sb0 type veth peer name sb1 && ip link set sb0 up && ip addr add fd00::5/64 dev sb0');
    expect(ipv6Flags(ns, 'sb0', 'fd00::5')).toMatchObject({ tentative: true });
    expect(failed(bind(socket(6), addr('fd00::5', 0)))).toMatchObject({
      code: 'EADDRNOTAVAIL',
      message: 'bind EADDRNOTAVAIL fd00::5',
      port: 0,
    });
  });

  netnsIt('an address during slow DAD on a live link is tentative and its bind fails', (ns) => {
    ns.sh('ip link add sb0 type veth peer name sb1');
    ns.sysctl('net.ipv6.conf.sb0.dad_transmits', '100');
    ns.sh('ip link set sb1 up && ip link set sb0 up && ip addr add fd00::6/64 dev sb0');
    expect(ipv6Flags(ns, 'sb0', 'fd00::6')).toMatchObject({ tentative: true });
    expect(failed(bind(socket(6), addr('fd00::6', 8080)))).toMatchObject({
      code: 'EADDRNOTAVAIL',
      message: 'bind EADDRNOTAVAIL fd00::6:8080',
    });
  });

  netnsIt('the same address with nodad is bindable at once (the test above would pass otherwise)', (ns) => {
    ns.sh(
      'ip link add sb0 type veth peer name sb1 && ip link set sb0 up && ip addr add fd00::7/64 dev sb0 nodad',
    );
    expect(ipv6Flags(ns, 'sb0', 'fd00::7')?.tentative).toBeUndefined();
    expect(bind(socket(6), addr('fd00::7', 0)).ok).toBe(true);
  });
});

describe('port conflicts', () => {
  netnsIt('a port held by a listener gives EADDRINUSE, with or without SO_REUSEADDR', () => {
    const holder = socket(4);
    expect(bind(holder, addr('127.0.0.1', 0)).ok).toBe(true);
    expect(listen(holder).ok).toBe(true);
    const held = localAddress(holder);
    if (!held.ok) throw new Error(held.error.message);
    const port = held.value.port;

    expect(failed(bind(socket(4), addr('127.0.0.1', port)))).toEqual({
      syscall: 'bind',
      errno: 98,
      code: 'EADDRINUSE',
      message: `bind EADDRINUSE 127.0.0.1:${port}`,
      address: '127.0.0.1',
      port,
    });
    const reuse = socket(4);
    expect(setReuseAddress(reuse, true).ok).toBe(true);
    expect(failed(bind(reuse, addr('127.0.0.1', port))).code).toBe('EADDRINUSE');
  });
});

describe('listen', () => {
  netnsIt('two SO_REUSEADDR sockets bind one port; the second listen fails EADDRINUSE naming it', () => {
    const first = socket(4);
    const second = socket(4);
    expect(setReuseAddress(first, true).ok && setReuseAddress(second, true).ok).toBe(true);
    expect(bind(first, addr('127.0.0.1', 0)).ok).toBe(true);
    const held = localAddress(first);
    if (!held.ok) throw new Error(held.error.message);
    const port = held.value.port;
    expect(bind(second, addr('127.0.0.1', port)).ok).toBe(true);
    expect(listen(first).ok).toBe(true);
    expect(failed(listen(second))).toEqual({
      syscall: 'listen',
      errno: 98,
      code: 'EADDRINUSE',
      message: `listen EADDRINUSE 127.0.0.1:${port}`,
      address: '127.0.0.1',
      port,
    });
  });
});

describe('scope ids and link-local addresses', () => {
  netnsIt('link-local without a scope id fails with EINVAL', () => {
    expect(failed(bind(socket(6), { address: 'fe80::1', port: 80, family: 6 }))).toMatchObject({
      errno: 22,
      code: 'EINVAL',
      message: 'bind EINVAL fe80::1:80',
    });
  });

  netnsIt('link-local with the scope of the interface that holds it succeeds', (ns) => {
    ns.sh(
      'ip link add sb0 type veth peer name sb1 && ip link set sb0 up && ip addr add fe80::1/64 dev sb0 nodad',
    );
    const target = addr('fe80::1%sb0', 80);
    expect(target.scopeId).toBeGreaterThan(1);
    const fd = socket(6);
    expect(bind(fd, target).ok).toBe(true);
    expect(localAddress(fd)).toEqual({
      ok: true,
      value: { address: 'fe80::1', port: 80, family: 6, scopeId: target.scopeId },
    });
  });

  netnsIt('a scope id that names no interface fails with ENODEV', () => {
    expect(failed(bind(socket(6), { address: 'fe80::1', port: 0, family: 6, scopeId: 999 })).code).toBe(
      'ENODEV',
    );
  });

  netnsIt('SO_BINDTODEVICE to a missing interface fails with ENODEV', () => {
    expect(failed(setDevice(socket(4), 'nosuch0'))).toEqual({
      syscall: 'setsockopt',
      errno: 19,
      code: 'ENODEV',
      message: 'setsockopt ENODEV SO_BINDTODEVICE nosuch0',
    });
  });
});

describe('v4-mapped addresses', () => {
  netnsIt('IPV6_V6ONLY refuses ::ffff:127.0.0.1 with EINVAL', () => {
    const fd = socket(6);
    expect(setIpv6Only(fd, true).ok).toBe(true);
    expect(failed(bind(fd, addr('::ffff:127.0.0.1', 0)))).toMatchObject({ code: 'EINVAL', errno: 22 });
  });

  netnsIt('a dual-stack socket binds ::ffff:127.0.0.1', () => {
    const fd = socket(6);
    expect(setIpv6Only(fd, false).ok).toBe(true);
    expect(bind(fd, addr('::ffff:127.0.0.1', 0)).ok).toBe(true);
    const local = localAddress(fd);
    expect(local.ok && local.value.address).toBe('::ffff:127.0.0.1');
  });

  netnsIt('::ffff:a.b.c.d whose IPv4 is on no interface fails with EADDRNOTAVAIL', () => {
    expect(failed(bind(socket(6), addr('::ffff:10.0.0.50', 80))).code).toBe('EADDRNOTAVAIL');
  });
});
