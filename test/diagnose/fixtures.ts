// Plain-object builders for diagnose tests: a host snapshot and failures as lib/api would record them.
import type { Attempt, HostSnapshot } from '../../lib/diagnose/index.js';
import type { NetSysctls, PortHolder } from '../../lib/host/types.js';
import type { Address, Protocol, SocketError } from '../../lib/types.js';

const ERRNO: Record<string, number> = {
  EACCES: 13,
  EAGAIN: 11,
  EINVAL: 22,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  EAFNOSUPPORT: 97,
  ENETUNREACH: 101,
  EHOSTUNREACH: 113,
  ECONNREFUSED: 111,
  ENODEV: 19,
  EMFILE: 24,
};

const IFINDEX: Record<string, number> = { lo: 1, eth0: 2, eth1: 3, eth2: 4 };

export function addr(iface: string, address: string, prefixLength: number, flags: string[] = []): Address {
  const family = address.includes(':') ? 6 : 4;
  const base = iface === 'lo' ? ['up', 'running', 'loopback'] : ['up', 'running'];
  return {
    interface: iface,
    ifindex: IFINDEX[iface] ?? 9,
    address,
    family,
    prefixLength,
    flags: [...base, ...flags],
  };
}

/** lo, eth0 10.0.0.10/24 with fd00::10/64 and a link-local, eth1 192.168.1.5/24. */
export function standardAddresses(): Address[] {
  return [
    addr('lo', '127.0.0.1', 8),
    addr('lo', '::1', 128),
    addr('eth0', '10.0.0.10', 24),
    addr('eth0', 'fd00::10', 64),
    addr('eth0', 'fe80::a00:27ff:fe4e:66a1', 64),
    addr('eth1', '192.168.1.5', 24),
  ];
}

export function sysctls(overrides: Partial<NetSysctls> = {}): NetSysctls {
  return {
    ipLocalPortRange: [32768, 60999],
    ipLocalReservedPorts: [],
    ipNonlocalBind: { v4: false, v6: false },
    tcpTwReuse: 2,
    ipUnprivilegedPortStart: 1024,
    disableIpv6: {
      absent: false,
      all: false,
      default: false,
      interfaces: { lo: false, eth0: false, eth1: false },
    },
    dadTransmits: { all: 1, default: 1, lo: 1, eth0: 1, eth1: 1 },
    acceptDad: { all: 0, default: 1, lo: -1, eth0: 1, eth1: 1 },
    raw: {},
    unreadable: {},
    ...overrides,
  };
}

export function snapshot(overrides: Partial<HostSnapshot> = {}): HostSnapshot {
  return {
    platform: 'linux',
    kernel: '6.18.0',
    addresses: standardAddresses(),
    sysctls: sysctls(),
    unavailable: [],
    ...overrides,
  };
}

export function socketError(syscall: string, code: string, address?: string, port?: number): SocketError {
  const where = address === undefined ? '' : ` ${address.includes(':') ? `[${address}]` : address}`;
  return {
    syscall,
    errno: ERRNO[code] ?? 0,
    code,
    message: `${syscall} ${code}${where}${port !== undefined ? `:${port}` : ''}`,
    ...(address !== undefined ? { address } : {}),
    ...(port !== undefined ? { port } : {}),
  };
}

export function bindFailure(
  host: string,
  port: number,
  code: string,
  options: Attempt['options'] = {},
  protocol: Protocol = 'tcp',
): Attempt {
  return {
    operation: 'bind',
    protocol,
    error: socketError('bind', code, host, port),
    local: { host, port },
    options,
  };
}

export function connectFailure(
  host: string,
  port: number,
  code: string,
  extra: { localAddress?: string; protocol?: Protocol; syscall?: string; options?: Attempt['options'] } = {},
): Attempt {
  const syscall = extra.syscall ?? 'connect';
  return {
    operation: 'connect',
    protocol: extra.protocol ?? 'tcp',
    error:
      syscall === 'bind'
        ? socketError('bind', code, extra.localAddress)
        : socketError(syscall, code, host, port),
    remote: { host, port },
    ...(extra.localAddress !== undefined ? { local: { host: extra.localAddress, port: 0 } } : {}),
    options: extra.options ?? {},
  };
}

export function holder(state: string, overrides: Partial<PortHolder> = {}): PortHolder {
  return {
    protocol: 'tcp',
    state,
    local: '0.0.0.0',
    localPort: 8080,
    uid: 1000,
    inode: 4242,
    ...overrides,
  };
}
