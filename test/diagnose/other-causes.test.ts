// invalid-address, unsupported-platform, unknown, and the notes every diagnosis carries.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../lib/diagnose/index.js';
import { bindFailure, connectFailure, holder, snapshot, socketError, sysctls } from './fixtures.js';

describe('invalid-address', () => {
  it('input rejected before any syscall is invalid-address with an empty code', () => {
    const diagnosis = diagnose(
      {
        operation: 'bind',
        protocol: 'tcp',
        error: null,
        local: { host: '10.0.0.300', port: 8080 },
        options: {},
        invalid: "'10.0.0.300' is not an IP address",
      },
      snapshot(),
    );
    expect(diagnosis.cause).toBe('invalid-address');
    expect(diagnosis.code).toBe('');
    expect(diagnosis.summary).toBe("Not a usable address or port: '10.0.0.300' is not an IP address");
    expect(diagnosis.evidence).toMatchObject({ host: '10.0.0.300', port: 8080 });
  });
});

describe('unsupported-platform', () => {
  it('a failure on another OS is unsupported-platform whatever the errno', () => {
    const diagnosis = diagnose(bindFailure('10.0.0.50', 8080, 'EADDRNOTAVAIL'), {
      platform: 'darwin',
      unavailable: [],
    });
    expect(diagnosis.cause).toBe('unsupported-platform');
    expect(diagnosis.summary).toBe('safebind explains socket failures on Linux only; this is darwin');
  });

  it('on Linux, an addon that could not be loaded is unsupported-platform with the paths tried', () => {
    const message = 'safebind ENOTSUP: no native build could be loaded; tried: /x/safebind.node: not found';
    const failure = {
      ...bindFailure('10.0.0.50', 8080, 'ENOTSUP'),
      error: { syscall: 'safebind', errno: 95, code: 'ENOTSUP', message },
    };
    const diagnosis = diagnose(failure, snapshot());
    expect(diagnosis.cause).toBe('unsupported-platform');
    expect(diagnosis.summary).toBe('safebind could not load its native addon on this Linux host');
    expect(diagnosis.details[0]).toContain('/x/safebind.node: not found');
    expect(diagnosis.remediation[0]?.commands).toEqual(['npm rebuild safebind']);
  });

  it('on Linux, a kernel EOPNOTSUPP from a real syscall is not mistaken for a missing addon', () => {
    const diagnosis = diagnose(bindFailure('10.0.0.50', 8080, 'ENOTSUP'), snapshot());
    expect(diagnosis.cause).toBe('unknown');
  });
});

describe('unknown', () => {
  it('an Error with no errno, code or syscall is said not to be a socket error', () => {
    const failure = {
      ...bindFailure('10.0.0.10', 8080, 'EMFILE'),
      error: { syscall: '', errno: 0, code: '', message: 'x' },
    };
    const diagnosis = diagnose(failure, snapshot());
    expect(diagnosis.cause).toBe('unknown');
    expect(diagnosis.summary).toBe('Not a socket error (no errno, code or syscall): x');
    expect(diagnosis.details[0]).toBe(
      'The error has no errno, code or syscall, so it is not a socket error: x.',
    );
  });

  it('an errno with no cause reports errno, syscall and what was read', () => {
    const failure = { ...bindFailure('10.0.0.10', 8080, 'EMFILE'), error: socketError('socket', 'EMFILE') };
    const diagnosis = diagnose(failure, snapshot());
    expect(diagnosis.cause).toBe('unknown');
    expect(diagnosis.code).toBe('EMFILE');
    expect(diagnosis.evidence).toMatchObject({ errno: 24, syscall: 'socket', code: 'EMFILE' });
    expect(diagnosis.details).toContain(
      'Read from the host: 6 addresses, the network sysctls; see the evidence.',
    );
  });

  it('ECONNREFUSED from a host that is not this one explains connection-refused and says its listeners cannot be seen', () => {
    const diagnosis = diagnose(connectFailure('10.0.0.9', 5432, 'ECONNREFUSED'), snapshot({ listeners: [] }));
    expect(diagnosis.cause).toBe('connection-refused');
    expect(diagnosis.summary).toBe(
      'Connection refused by 10.0.0.9:5432: that host answered with a reset, nothing accepts on port 5432 there (or a firewall rejects)',
    );
    expect(diagnosis.details[1]).toContain('its listeners cannot be seen from here');
  });

  it('ECONNREFUSED with the listeners unread says so instead of guessing', () => {
    const diagnosis = diagnose(connectFailure('127.0.0.1', 5432, 'ECONNREFUSED'), snapshot());
    expect(diagnosis.cause).toBe('connection-refused');
    expect(diagnosis.summary).toBe(
      'Connection refused by 127.0.0.1:5432: nothing accepted on port 5432 there (the listeners here could not be read)',
    );
    expect(diagnosis.evidence['listeners']).toBe('unavailable');
  });

  it('ECONNREFUSED where a wildcard listener covers the address now says it was not listening when connect ran', () => {
    const diagnosis = diagnose(
      connectFailure('127.0.0.1', 8080, 'ECONNREFUSED'),
      snapshot({ listeners: [holder('LISTEN', { local: '::', pid: 321, command: 'node' })] }),
    );
    expect(diagnosis.cause).toBe('connection-refused');
    expect(diagnosis.summary).toBe(
      'Connection refused by 127.0.0.1:8080, yet [::]:8080: node (pid 321) listens there now: it was not listening when connect ran',
    );
  });
  it('SO_BINDTODEVICE ENODEV names the missing device and the interfaces there are', () => {
    const failure = {
      ...bindFailure('10.0.0.10', 8080, 'ENODEV', { device: 'eth9' }),
      error: socketError('setsockopt', 'ENODEV'),
    };
    const diagnosis = diagnose(failure, snapshot());
    expect(diagnosis.cause).toBe('unknown');
    expect(diagnosis.details).toContain(
      'SO_BINDTODEVICE named an interface that does not exist (eth9); this host has lo, eth0 and eth1.',
    );
  });

  it('an explain() of a connect error without a destination says what could not be checked', () => {
    const diagnosis = diagnose(
      { operation: 'connect', protocol: 'tcp', error: socketError('connect', 'EADDRNOTAVAIL'), options: {} },
      snapshot({ unavailable: ['the destination: the error names none and no context.host was given'] }),
    );
    expect(diagnosis.cause).toBe('ephemeral-ports-exhausted');
    expect(diagnosis.details).toContain(
      'Not checked: the destination: the error names none and no context.host was given.',
    );
  });

  it('sysctls that could not be read are listed', () => {
    const host = snapshot({
      sysctls: sysctls({ unreadable: { 'net.ipv4.ip_local_reserved_ports': 'EACCES' } }),
    });
    const diagnosis = diagnose(bindFailure('10.0.0.50', 8080, 'EADDRNOTAVAIL'), host);
    expect(diagnosis.details).toContain(
      'Sysctls that could not be read: net.ipv4.ip_local_reserved_ports (EACCES).',
    );
  });
});

describe('name-not-resolved', () => {
  const lookupFailure = (name: string, code: string) => ({
    ...connectFailure(name, 0, code),
    error: { ...socketError('getaddrinfo', code, name), errno: 3008 },
  });

  it('ENOTFOUND of a name without a dot, and no search domain, says the name has no address and to use the full name', () => {
    const diagnosis = diagnose(
      lookupFailure('db', 'ENOTFOUND'),
      snapshot({
        resolver: {
          name: 'db',
          resolvConf: {
            path: '/etc/resolv.conf',
            nameservers: ['10.0.0.2'],
            search: [],
            options: ['ndots:1'],
          },
          hosts: { path: '/etc/hosts', matches: [] },
          nsswitchHosts: { path: '/etc/nsswitch.conf', sources: ['files', 'dns'], present: true },
          unreadable: {},
        },
      }),
    );
    expect(diagnosis.cause).toBe('name-not-resolved');
    expect(diagnosis.summary).toBe('Cannot resolve db: the name has no address (ENOTFOUND)');
    expect(diagnosis.details).toContain('/etc/resolv.conf: nameserver 10.0.0.2; options ndots:1.');
    expect(diagnosis.evidence).toMatchObject({ name: 'db', temporary: false });
    expect(diagnosis.remediation.map((r) => r.title)).toContain(
      'db has no dot and resolv.conf has no search domain: use the full name',
    );
    expect(diagnosis.remediation[0]?.commands).toEqual(['getent hosts db']);
  });

  it('an unreadable resolv.conf is said, and a name needing quotes is shell-quoted in the command', () => {
    const diagnosis = diagnose(
      lookupFailure('a$(id).example.com', 'EAI_AGAIN'),
      snapshot({
        resolver: { name: 'a$(id).example.com', unreadable: { resolvConf: '/etc/resolv.conf: EACCES' } },
      }),
    );
    expect(diagnosis.cause).toBe('name-not-resolved');
    expect(diagnosis.details).toContain('Could not read /etc/resolv.conf: EACCES.');
    expect(diagnosis.remediation[0]?.commands).toEqual(["getent hosts 'a$(id).example.com'"]);
  });
});
