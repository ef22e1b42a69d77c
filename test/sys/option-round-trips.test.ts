// Every socket option lib/sys sets reads back changed, on IPv4 and IPv6 sockets alike (socket2's
// tests/socket.rs pattern): a setter that silently did nothing would fail here.
import { release } from 'node:os';
import { afterEach, describe, expect } from 'vitest';
import type { Family, Result } from '../../lib/types.js';
import type { OptionName, OptionValue } from '../../lib/sys/index.js';
import {
  bind,
  bindAddressNoPort,
  connect,
  listen,
  localAddress,
  closeSocket,
  device,
  freebind,
  ipv6Only,
  linger,
  localPortRange,
  getOption,
  newSocket,
  setOption,
  reuseAddress,
  reusePort,
  setBindAddressNoPort,
  setDevice,
  setFreebind,
  setIpv6Only,
  setLinger,
  setLocalPortRange,
  setReuseAddress,
  setReusePort,
  setTransparent,
  transparent,
} from '../../lib/sys/index.js';
import { netnsIt } from '../helpers/netns.js';

function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

function kernelAtLeast(major: number, minor: number): boolean {
  const [a = 0, b = 0] = release()
    .split('.')
    .map((n) => parseInt(n, 10));
  return a > major || (a === major && b >= minor);
}

const open: number[] = [];
function socket(family: Family, protocol: 'tcp' | 'udp' = 'tcp'): number {
  const fd = value(newSocket(family, protocol));
  open.push(fd);
  return fd;
}

afterEach(() => {
  for (const fd of open.splice(0)) closeSocket(fd);
});

describe.each([4, 6] as const)('socket options round-trip on IPv%i sockets', (family) => {
  netnsIt('SO_REUSEADDR turns on and off', () => {
    const fd = socket(family);
    expect(value(reuseAddress(fd))).toBe(false);
    value(setReuseAddress(fd, true));
    expect(value(reuseAddress(fd))).toBe(true);
    value(setReuseAddress(fd, false));
    expect(value(reuseAddress(fd))).toBe(false);
  });

  netnsIt('SO_REUSEPORT turns on and off', () => {
    const fd = socket(family, 'udp');
    expect(value(reusePort(fd))).toBe(false);
    value(setReusePort(fd, true));
    expect(value(reusePort(fd))).toBe(true);
    value(setReusePort(fd, false));
    expect(value(reusePort(fd))).toBe(false);
  });

  netnsIt(`${family === 4 ? 'IP_FREEBIND' : 'IPV6_FREEBIND'} turns on and off`, () => {
    const fd = socket(family);
    expect(value(freebind(fd, family))).toBe(false);
    value(setFreebind(fd, family, true));
    expect(value(freebind(fd, family))).toBe(true);
    value(setFreebind(fd, family, false));
    expect(value(freebind(fd, family))).toBe(false);
  });

  netnsIt('IP_BIND_ADDRESS_NO_PORT turns on and off', () => {
    const fd = socket(family);
    expect(value(bindAddressNoPort(fd))).toBe(false);
    value(setBindAddressNoPort(fd, true));
    expect(value(bindAddressNoPort(fd))).toBe(true);
    value(setBindAddressNoPort(fd, false));
    expect(value(bindAddressNoPort(fd))).toBe(false);
  });

  netnsIt('SO_BINDTODEVICE binds to lo and to a veth interface, and "" removes it', (ns) => {
    ns.run('ip link add sbveth0 type veth peer name sbveth1');
    const fd = socket(family);
    expect(value(device(fd))).toBe('');
    value(setDevice(fd, 'lo'));
    expect(value(device(fd))).toBe('lo');
    value(setDevice(fd, 'sbveth0'));
    expect(value(device(fd))).toBe('sbveth0');
    value(setDevice(fd, ''));
    expect(value(device(fd))).toBe('');
  });

  netnsIt('SO_LINGER takes seconds, 0 (reset on close) and off', () => {
    const fd = socket(family);
    expect(value(linger(fd))).toBeNull();
    value(setLinger(fd, 7));
    expect(value(linger(fd))).toBe(7);
    value(setLinger(fd, 0));
    expect(value(linger(fd))).toBe(0);
    value(setLinger(fd, null));
    expect(value(linger(fd))).toBeNull();
  });

  netnsIt('IP_TRANSPARENT turns on and off as root of the namespace', () => {
    const fd = socket(family);
    expect(value(transparent(fd))).toBe(false);
    value(setTransparent(fd, true));
    expect(value(transparent(fd))).toBe(true);
    value(setTransparent(fd, false));
    expect(value(transparent(fd))).toBe(false);
  });

  netnsIt('IP_LOCAL_PORT_RANGE narrows and resets, or fails with a typed ENOPROTOOPT', () => {
    const fd = socket(family);
    const set = setLocalPortRange(fd, [40000, 40009]);
    if (!set.ok) {
      // Kernels before 6.3 have no such option: that must be data, never a crash.
      expect(kernelAtLeast(6, 3)).toBe(false);
      expect(set.error).toMatchObject({ code: 'ENOPROTOOPT', syscall: 'setsockopt' });
      return;
    }
    expect(value(localPortRange(fd))).toEqual([40000, 40009]);
    value(setLocalPortRange(fd, [0, 0]));
    expect(value(localPortRange(fd))).toEqual([0, 0]);
  });
});

// One line per option of the table (socket2's tests/socket.rs): a value to set, and what it reads
// back as when the kernel reports it otherwise. A new socket must read something else first, so a
// setter that does nothing fails.
const ROUND_TRIPS: { [K in OptionName]?: [set: OptionValue<K>, readBack?: OptionValue<K>] } = {
  reuseAddress: [true],
  bindAddressNoPort: [true],
  recvBufferSize: [4096, 8192],
};

describe.each([4, 6] as const)('the option table round-trips on IPv%i sockets', (family) => {
  for (const [name, [set, readBack = set]] of Object.entries(ROUND_TRIPS)) {
    netnsIt(`${name} reads back what was set`, () => {
      const option = name as OptionName;
      const fd = socket(family);
      expect(value(getOption(fd, family, option))).not.toEqual(readBack);
      value(setOption(fd, family, option, set as never));
      expect(value(getOption(fd, family, option))).toEqual(readBack);
    });
  }
});

describe('IPv6-only sockets', () => {
  netnsIt('IPV6_V6ONLY turns on and off on an IPv6 socket', () => {
    const fd = socket(6);
    const initial = value(ipv6Only(fd));
    value(setIpv6Only(fd, !initial));
    expect(value(ipv6Only(fd))).toBe(!initial);
    value(setIpv6Only(fd, initial));
    expect(value(ipv6Only(fd))).toBe(initial);
  });

  netnsIt('IPV6_V6ONLY on an IPv4 socket is a typed failure, not a crash', () => {
    const fd = socket(4);
    const r = setIpv6Only(fd, true);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ syscall: 'setsockopt', code: 'ENOPROTOOPT' });
  });
});

describe('options and programmer errors', () => {
  netnsIt('a wrong argument type throws a TypeError instead of reaching the kernel', () => {
    const fd = socket(4);
    expect(() => setReuseAddress(fd, 1 as unknown as boolean)).toThrow(TypeError);
    expect(() => setReuseAddress(-1, true)).toThrow(TypeError);
    expect(() => setFreebind(fd, 5 as unknown as Family, true)).toThrow(TypeError);
    expect(() => setLocalPortRange(fd, [1, 70000])).toThrow(TypeError);
    expect(() => setLinger(fd, -1)).toThrow(TypeError);
  });

  netnsIt('an option on a descriptor that is not open is EBADF, as data', () => {
    // Above the open-files limit, so no other part of the process can have it open.
    const r = setReuseAddress(1_000_000, true);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatchObject({ syscall: 'setsockopt', errno: 9, code: 'EBADF' });
      expect(r.error.message).toBe('setsockopt EBADF SO_REUSEADDR');
    }
  });
});

describe('options that change what the kernel does', () => {
  netnsIt(
    'IP_BIND_ADDRESS_NO_PORT leaves the port to connect, and IP_LOCAL_PORT_RANGE picks it',
    async () => {
      const server = socket(4);
      value(bind(server, { address: '127.0.0.1', port: 0, family: 4 }));
      value(listen(server));
      const target = value(localAddress(server));

      const fd = socket(4);
      value(setBindAddressNoPort(fd, true));
      value(bind(fd, { address: '127.0.0.1', port: 0, family: 4 }));
      expect(value(localAddress(fd)).port).toBe(0);
      if (!kernelAtLeast(6, 3)) return;
      value(setLocalPortRange(fd, [40123, 40123]));
      value(connect(fd, target));
      expect(value(localAddress(fd))).toEqual({ address: '127.0.0.1', port: 40123, family: 4 });
    },
  );
});
