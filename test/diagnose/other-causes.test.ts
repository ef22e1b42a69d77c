// invalid-address, unsupported-platform, unknown, and the notes every diagnosis carries.
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../lib/diagnose/index.js';
import { bindFailure, connectFailure, snapshot, socketError, sysctls } from './fixtures.js';

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

  it('ECONNREFUSED is unknown with the usual meaning', () => {
    const diagnosis = diagnose(connectFailure('10.0.0.9', 5432, 'ECONNREFUSED'), snapshot());
    expect(diagnosis.cause).toBe('unknown');
    expect(diagnosis.summary).toBe(
      'connect ECONNREFUSED on 10.0.0.9:5432: no known cause matched; the evidence below is what was read',
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
