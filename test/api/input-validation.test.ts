// One validation serves every entry point: a value C would read differently (a NUL byte cuts
// 'lo\0evil' to 'lo'), a scope or name the kernel cannot have, or a port no connect can use fails
// with cause `invalid-address` and a sentence saying what is wrong, before any system call.
import { describe, expect } from 'vitest';
import { portUsage, PortUsageError } from '../../lib/api/port-usage.js';
import { preflight } from '../../lib/api/preflight.js';
import { safeBind } from '../../lib/api/safe-bind.js';
import { safeConnect } from '../../lib/api/safe-connect.js';
import { netnsIt } from '../helpers/netns.js';
import { fdCount } from './helpers.js';

/** The PortUsageError portUsage rejects with, or a failure of the test when it resolves. */
async function portUsageError(options: Parameters<typeof portUsage>[0]): Promise<PortUsageError> {
  const outcome = await portUsage(options).then(
    (usage) => usage,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(PortUsageError);
  return outcome as PortUsageError;
}

describe('one validation for every entry point', () => {
  netnsIt('a device with a NUL byte is refused, not bound to the name before the NUL', async () => {
    const before = fdCount();
    const result = await safeBind({ host: '127.0.0.1', port: 0, device: 'lo\0evil' });
    if (result.ok) result.socket.close();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnosis.cause).toBe('invalid-address');
    expect(result.error.syscall).toBe('safebind');
    expect(result.diagnosis.summary).toContain(
      'device "lo\\u0000evil" cannot be an interface name: it contains a NUL byte',
    );
    expect(fdCount()).toBe(before);
  });

  netnsIt('device names the kernel refuses fail as invalid-address with the rule they break', async () => {
    const cases: Array<[string, RegExp]> = [
      ['ab:c', /no "\/", ":" or whitespace/],
      ['äääääääää', /18 bytes long, and an interface name has at most 15/],
      ['lo\x1b[2J', /control character/],
    ];
    for (const [device, reason] of cases) {
      const result = await safeBind({ host: '127.0.0.1', port: 0, device });
      if (result.ok) result.socket.close();
      expect(result.ok ? 'bound' : result.diagnosis.cause).toBe('invalid-address');
      if (!result.ok) expect(result.diagnosis.summary).toMatch(reason);
    }
  });

  netnsIt('a zone with a NUL byte is refused, not scoped to the interface before the NUL', async (ns) => {
    ns.run('ip addr add fe80::9/64 dev lo');
    const result = await safeBind({ host: 'fe80::9%lo\0evil', port: 0 });
    if (result.ok) result.socket.close();
    expect(result.ok ? 'bound' : result.diagnosis.cause).toBe('invalid-address');
    if (!result.ok) expect(result.diagnosis.summary).toMatch(/contains a NUL byte/);
    const connect = await safeConnect({ host: '::1', port: 80, localAddress: 'fe80::9%lo\0evil' });
    expect(connect.ok ? 'connected' : connect.diagnosis.cause).toBe('invalid-address');
  });

  netnsIt('portUsage refuses a host with a NUL byte instead of counting the address before it', async () => {
    const error = await portUsageError({ host: '127.0.0.1\0', port: 80 });
    expect(error.code).toBe('invalid-address');
    expect(error.message).toBe('"127.0.0.1\\u0000" contains a NUL byte');
  });

  netnsIt(
    'portUsage refuses what safeBind and safeConnect refuse: unknown scopes, 5,000-character names',
    async () => {
      const scoped = await portUsageError({ host: 'fe80::1%4242', port: 80 });
      expect(scoped.code).toBe('invalid-address');
      expect(scoped.message).toMatch(/no interface has index 4242/);
      const long = await portUsageError({ host: 'a'.repeat(5000), port: 80 });
      expect(long.code).toBe('invalid-address');
      expect(long.message).toBe(
        'the address is 5000 characters long: no address, host name or target has more than 300',
      );
      const connect = await safeConnect({ host: 'a'.repeat(5000), port: 80 });
      expect(connect.ok ? 'connected' : connect.diagnosis.evidence.invalid).toBe(long.message);
    },
  );

  netnsIt('port 0 is refused by portUsage, safeConnect and preflight with the same sentence', async () => {
    const sentence = 'port 0 cannot be connected to: give the destination port';
    const error = await portUsageError({ host: '127.0.0.1', port: 0 });
    expect(error.code).toBe('invalid-address');
    expect(error.message).toBe(sentence);
    const connect = await safeConnect({ host: '127.0.0.1', port: 0 });
    expect(connect.ok ? 'connected' : connect.diagnosis.evidence.invalid).toBe(sentence);
    const report = await preflight({ connect: [{ host: '127.0.0.1', port: 0 }, '127.0.0.1:0'] });
    expect(report.checks.map((c) => c.diagnosis?.evidence.invalid)).toEqual([sentence, sentence]);
  });

  netnsIt(
    'a connect target with a NUL byte is refused, never resolved as the address before it',
    async () => {
      const connect = await safeConnect({ host: '127.0.0.1\0evil', port: 80 });
      expect(connect.ok ? 'connected' : connect.diagnosis.cause).toBe('invalid-address');
      const report = await preflight({ connect: [{ host: '127.0.0.1\0evil', port: 80 }] });
      expect(report.checks[0]?.diagnosis?.cause).toBe('invalid-address');
      expect(report.checks[0]?.diagnosis?.evidence.invalid).toBe(
        '"127.0.0.1\\u0000evil" contains a NUL byte',
      );
    },
  );
});
