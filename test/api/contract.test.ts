// The public contract of DESIGN.md as the package entry point exposes it: exactly the stable names,
// a TypeError with a message naming the call and the field for every argument of the wrong type
// (before anything is read or opened), and results whose fields are the documented ones.
import net from 'node:net';
import { release } from 'node:os';
import { describe, expect, it } from 'vitest';
import { kernelListsBoundOnly } from '../../lib/host/index.js';
import * as api from '../../lib/index.js';
import { netnsIt } from '../helpers/netns.js';
import { fdCount } from './helpers.js';

const STABLE = [
  'explain',
  'forecast',
  'inspectHost',
  'portUsage',
  'preflight',
  'safeBind',
  'safeConnect',
  'safeListen',
  'watchErrors',
];
/** Error classes a caller needs for `instanceof` on rejections; additive to DESIGN.md's names. */
const ERROR_CLASSES = ['AbortError', 'PortUsageError'];

const bindError = Object.assign(new Error('bind EADDRNOTAVAIL 10.0.0.50:8080'), {
  code: 'EADDRNOTAVAIL',
  errno: -99,
  syscall: 'bind',
  address: '10.0.0.50',
  port: 8080,
});

describe('the public contract', () => {
  it('the entry point exports the stable names, two error classes, and nothing else at run time', () => {
    expect(Object.keys(api).sort()).toEqual([...STABLE, ...ERROR_CLASSES].sort());
    for (const name of STABLE) expect(typeof (api as Record<string, unknown>)[name]).toBe('function');
  });

  it('arguments of the wrong type reject with a TypeError naming the call and the field', async () => {
    const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
      ['safeBind host 42', () => api.safeBind({ host: 42 } as never), /safeBind\(\): host must be a string/],
      ['safeConnect(null)', () => api.safeConnect(null as never), /safeConnect\(\) takes \{ host, port/],
      [
        'preflight bind string',
        () => api.preflight({ bind: 'x' } as never),
        /preflight\(\): bind must be an array/,
      ],
      ['portUsage({})', () => api.portUsage({} as never), /portUsage\(\): host must be a string/],
      ['forecast({})', () => api.forecast({} as never), /forecast\(\): host must be a string/],
      [
        'forecast sampleMs',
        () => api.forecast({ host: '127.0.0.1', port: 1, sampleMs: '1' } as never),
        /forecast\(\): sampleMs must be a number/,
      ],
      ['inspectHost(5)', () => api.inspectHost(5 as never), /inspectHost\(\) takes no argument or \{/],
      ['inspectHost(null)', () => api.inspectHost(null as never), /inspectHost\(\) takes/],
      [
        'inspectHost destination null',
        () => api.inspectHost({ destinations: [null as never] }),
        /inspectHost\(\): destinations\[0\] must be \{ host, port \}/,
      ],
      [
        'inspectHost destinations string',
        () => api.inspectHost({ destinations: 'x' as never }),
        /inspectHost\(\): destinations must be an array/,
      ],
      [
        'inspectHost top',
        () => api.inspectHost({ top: 'x' as never }),
        /inspectHost\(\): top must be an integer/,
      ],
      [
        'explain context 5',
        () => api.explain(bindError, 5 as never),
        /explain\(err, context\): context must be/,
      ],
      [
        'explain context port text',
        () => api.explain(bindError, { port: '8080' as never }),
        /explain\(\): context\.port must be a number, got string/,
      ],
      [
        'explain context host number',
        () => api.explain(bindError, { host: 5 as never }),
        /explain\(\): context\.host must be a string/,
      ],
      [
        'explain context operation',
        () => api.explain(bindError, { operation: 'accept' as never }),
        /explain\(\): context\.operation must be 'bind', 'listen' or 'connect'/,
      ],
      [
        'explain context protocol',
        () => api.explain(bindError, { protocol: 'sctp' as never }),
        /explain\(\): context\.protocol must be 'tcp' or 'udp'/,
      ],
      [
        'portUsage localAddress 5',
        () => api.portUsage({ host: '127.0.0.1', port: 80, localAddress: 5 as never }),
        /portUsage\(\): localAddress must be a string/,
      ],
      [
        'portUsage protocol',
        () => api.portUsage({ host: '127.0.0.1', port: 80, protocol: 'sctp' as never }),
        /portUsage\(\): protocol must be 'tcp' or 'udp'/,
      ],
      [
        'safeListen backlog -1',
        () => api.safeListen(net.createServer(), { host: '127.0.0.1', port: 0, backlog: -1 }),
        /safeListen\(\): backlog must be an integer from 0 to 2147483647, got -1/,
      ],
    ];
    const before = fdCount();
    for (const [name, call, message] of cases) {
      const outcome = await call().then(
        () => 'resolved',
        (e: unknown) => e,
      );
      expect(outcome, name).toBeInstanceOf(TypeError);
      expect((outcome as TypeError).message, name).toMatch(message);
    }
    expect(fdCount()).toBe(before);
  });

  netnsIt('HostReport, Address and PortUsage carry exactly the documented fields', async (ns) => {
    ns.run('ip link add sbc0 type veth peer name sbc1');
    ns.run('ip link set sbc1 up');
    ns.run('ip link set sbc0 up');
    ns.run('ip addr add 10.61.0.1/24 dev sbc0');
    ns.run('ip addr add 10.61.0.2/24 dev sbc0');
    ns.run('ip addr add fd61::1/64 dev sbc0 nodad');
    const report = await api.inspectHost({ destinations: [{ host: '10.61.0.1', port: 80 }] });
    const listed = kernelListsBoundOnly(release());
    // Before Linux 6.5 the sockets only bound cannot be counted: notRead.boundOnly says so.
    expect(Object.keys(report).sort()).toEqual([
      'addresses',
      'kernel',
      ...(listed ? [] : ['notRead']),
      'sockets',
      'sysctls',
      'warnings',
    ]);
    // boundOnly: added to DESIGN.md's shape (sockets only bound, counted where the kernel lists them).
    expect(Object.keys(report.sockets).sort()).toEqual(
      listed ? ['boundOnly', 'byState', 'topDestinations'] : ['byState', 'topDestinations'],
    );
    const addressFields = ['address', 'family', 'flags', 'ifindex', 'interface', 'prefixLength', 'scopeId'];
    for (const a of report.addresses) {
      expect(addressFields).toEqual(expect.arrayContaining(Object.keys(a)));
    }
    const flagsOf = (address: string) => report.addresses.find((a) => a.address === address)?.flags;
    expect(flagsOf('10.61.0.2')).toEqual(expect.arrayContaining(['up', 'running', 'secondary', 'permanent']));
    expect(flagsOf('fd61::1')).toEqual(expect.arrayContaining(['nodad', 'permanent']));
    expect(flagsOf('127.0.0.1')).toEqual(expect.arrayContaining(['loopback']));

    const pool = report.sockets.topDestinations[0];
    expect(pool?.destination).toBe('10.61.0.1:80');
    const usage = await api.portUsage({ host: '10.61.0.1', port: 80, localAddress: '10.61.0.2' });
    expect(Object.keys(usage).sort()).toEqual(
      [
        'byState',
        'destination',
        'inUse',
        'localAddress',
        'poolSize',
        'protocol',
        'range',
        'reserved',
        'usage',
      ].sort(),
    );
    expect(usage).toMatchObject({ protocol: 'tcp', destination: '10.61.0.1:80', localAddress: '10.61.0.2' });
  });

  netnsIt(
    'an unusable destination of inspectHost is a warning in the words of the api, not of a CLI flag',
    async () => {
      const report = await api.inspectHost({ destinations: [{ host: 'db.internal', port: 5432 }] });
      const warning = report.warnings.find((w) => w.includes('db.internal'));
      expect(warning).toMatch(/^destination db\.internal: /);
    },
  );

  netnsIt(
    'a failed safeBind carries a Node-style SocketError and a Diagnosis of the documented shape',
    async () => {
      const result = await api.safeBind({ host: '10.62.0.50', port: 8080 });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error).toEqual({
        syscall: 'bind',
        errno: 99,
        code: 'EADDRNOTAVAIL',
        message: 'bind EADDRNOTAVAIL 10.62.0.50:8080',
        address: '10.62.0.50',
        port: 8080,
      });
      expect(Object.keys(result.diagnosis).sort()).toEqual(
        ['cause', 'code', 'details', 'evidence', 'remediation', 'summary'].sort(),
      );
      expect(result.diagnosis).toMatchObject({ cause: 'address-not-local', code: 'EADDRNOTAVAIL' });
    },
  );
});
