// preflight() binds each bind target for real and closes it, checks each connect target for route and
// source-port headroom (and connects when asked), and reports every failure with its diagnosis.
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { preflight } from '../../lib/api/preflight.js';
import { safeConnect } from '../../lib/api/safe-connect.js';
import { netnsIt } from '../helpers/netns.js';
import { echoServer, fdCount } from './helpers.js';
import { eachReader } from '../helpers/readers.js';

eachReader('preflight', (kind) => {
  netnsIt('bind targets in every written form are bound for real and released', async (ns) => {
    ns.run('ip link add sbp0 type veth peer name sbp1');
    ns.run('ip addr add fe80::5/64 dev sbp0 nodad');
    ns.run('ip addr add 10.40.0.1/24 dev lo');
    const before = fdCount();
    const report = await preflight({ bind: ['10.40.0.1:8080', '[::1]:8443', '[fe80::5%sbp0]:8080'] });
    expect(report).toEqual({
      ok: true,
      checks: [
        { kind: 'bind', target: '10.40.0.1:8080', ok: true },
        { kind: 'bind', target: '[::1]:8443', ok: true },
        {
          kind: 'bind',
          target: '[fe80::5%sbp0]:8080',
          ok: true,
          // sbp0 was never set up: the bind works, and the report says nothing can arrive there.
          warnings: [
            'fe80::5%sbp0 is on sbp0, which is down: the bind works, but nothing reaches the address until the link is up with carrier (ip link show sbp0)',
          ],
        },
      ],
    });
    expect(fdCount()).toBe(before);
    // Released: the same port binds again at once.
    expect((await preflight({ bind: ['10.40.0.1:8080'] })).ok).toBe(true);
  });

  netnsIt(
    'a failing bind target carries its diagnosis, a bad one invalid-address, and the report fails',
    async () => {
      const report = await preflight({ bind: ['10.41.0.9:8080', 'bogus:80', 'localhost:80', '127.0.0.1:0'] });
      expect(report.ok).toBe(false);
      expect(report.checks.map((c) => [c.target, c.ok, c.diagnosis?.cause])).toEqual([
        ['10.41.0.9:8080', false, 'address-not-local'],
        ['bogus:80', false, 'invalid-address'],
        ['localhost:80', false, 'invalid-address'],
        ['127.0.0.1:0', true, undefined],
      ]);
    },
  );

  netnsIt('a connect target with no host is told what a connect needs, never bind wording', async () => {
    const report = await preflight({ connect: [':5432'] });
    expect(report.ok).toBe(false);
    const diagnosis = report.checks[0]?.diagnosis;
    expect(diagnosis?.cause).toBe('invalid-address');
    expect(diagnosis?.summary).toContain(
      'a connect target needs the host name or address to reach and a port',
    );
    expect(diagnosis?.summary).toContain('db.internal:5432 or 10.0.0.7:5432');
    expect(JSON.stringify(diagnosis)).not.toMatch(/0\.0\.0\.0|\[::\]/);
  });

  netnsIt('wait lets a bind target appear, and the check warns that it had to wait', async (ns) => {
    const attach = delay(200).then(() => ns.run('ip addr add 10.42.0.1/24 dev lo'));
    const report = await preflight({ bind: ['10.42.0.1:8080'], wait: 5_000 });
    await attach;
    expect(report.ok).toBe(true);
    expect(report.checks[0]?.warnings?.[0]).toMatch(/10\.42\.0\.1 became bindable only after \d+ ms/);
  });

  netnsIt('UDP and freebind bind targets as options; freebind on an absent address warns', async () => {
    const report = await preflight({
      bind: [
        { host: '127.0.0.1', port: 5353, protocol: 'udp' },
        { host: '10.43.0.1', port: 8080, freebind: true },
      ],
    });
    expect(report.checks[0]).toEqual({ kind: 'bind', target: '127.0.0.1:5353/udp', ok: true });
    if (kind === 'no-addon') {
      // IP_FREEBIND is the addon's: without it the target fails saying so, never bound without it.
      expect(report.ok).toBe(false);
      expect(report.checks[1]?.diagnosis?.cause).toBe('unsupported-platform');
      expect(report.checks[1]?.diagnosis?.details[0]).toContain('freebind needs the native addon');
      return;
    }
    expect(report.ok).toBe(true);
    expect(report.checks[1]?.warnings?.[0]).toMatch(/10\.43\.0\.1 is on no interface yet/);
  });

  netnsIt('connect targets: route, headroom, host names and a real probe', async () => {
    await echoServer(16000);
    const report = await preflight({
      connect: [
        '127.0.0.1:16000',
        { host: 'localhost', port: 16000, localAddress: '127.0.0.1' },
        '10.200.0.1:80',
      ],
      probe: true,
    });
    expect(report.ok).toBe(false);
    expect(report.checks.map((c) => [c.kind, c.target, c.ok, c.diagnosis?.cause])).toEqual([
      ['connect', '127.0.0.1:16000', true, undefined],
      ['connect', 'localhost:16000', true, undefined],
      ['connect', '10.200.0.1:80', false, 'no-route'],
    ]);
  });

  netnsIt('a probe to a closed port fails with the refusal explained', async () => {
    const report = await preflight({ connect: ['127.0.0.1:1'], probe: true });
    expect(report.ok).toBe(false);
    expect(report.checks[0]?.diagnosis?.code).toBe('ECONNREFUSED');
    // Without the probe, route and pool are fine: the check passes.
    expect((await preflight({ connect: ['127.0.0.1:1'] })).ok).toBe(true);
  });

  netnsIt('a source address on no interface fails the connect target as source-not-local', async () => {
    const report = await preflight({ connect: [{ host: '127.0.0.1', port: 80, localAddress: '10.44.0.1' }] });
    expect(report.checks[0]?.diagnosis?.cause).toBe('source-not-local');
  });

  netnsIt('a pool 90% used warns; a full one fails as ephemeral-ports-exhausted', async (ns) => {
    ns.sysctl('net.ipv4.ip_local_port_range', '40000 40009');
    await echoServer(5556);
    const open: net.Socket[] = [];
    try {
      for (let i = 0; i < 9; i++) {
        const r = await safeConnect({ host: '127.0.0.1', port: 5556 });
        if (!r.ok) throw new Error(r.diagnosis.summary);
        open.push(r.socket);
      }
      const nearly = await preflight({ connect: ['127.0.0.1:5556'] });
      expect(nearly.ok).toBe(true);
      expect(nearly.checks[0]?.warnings).toEqual([
        'the source-port pool toward 127.0.0.1:5556 is 90% used (9 of 10 ports)',
      ]);
      const last = await safeConnect({ host: '127.0.0.1', port: 5556 });
      if (!last.ok) throw new Error(last.diagnosis.summary);
      open.push(last.socket);
      const full = await preflight({ connect: ['127.0.0.1:5556'] });
      expect(full.ok).toBe(false);
      expect(full.checks[0]?.diagnosis?.cause).toBe('ephemeral-ports-exhausted');
    } finally {
      for (const s of open) s.destroy();
    }
  });

  netnsIt('200 concurrent preflights of one UDP bind target all pass: no check sees another', async () => {
    const target = { host: '127.0.0.1', port: 5454, protocol: 'udp' as const };
    const before = fdCount();
    const reports = await Promise.all(Array.from({ length: 200 }, () => preflight({ bind: [target] })));
    const failed = reports.filter((r) => !r.ok).map((r) => r.checks[0]?.diagnosis?.cause);
    expect(failed).toEqual([]);
    expect(fdCount()).toBe(before);
  });

  it('wrong types throw a TypeError', async () => {
    await expect(preflight(null as never)).rejects.toThrow(TypeError);
    await expect(preflight({ bind: '127.0.0.1:80' as never })).rejects.toThrow(TypeError);
    await expect(preflight({ wait: -5 })).rejects.toThrow(TypeError);
    await expect(preflight({ connect: [{ host: 1, port: 80 } as never] })).rejects.toThrow(TypeError);
  });

  it('a misspelt option or nothing to check throws, rather than passing with no check made', async () => {
    await expect(preflight({ binds: ['10.0.0.5:80'] } as never)).rejects.toThrow(
      'preflight(): unknown option "binds" (it takes bind, connect, wait, probe, signal)',
    );
    await expect(preflight({})).rejects.toThrow(
      'preflight(): nothing to check: give bind or connect targets',
    );
    await expect(preflight({ bind: [], connect: [] })).rejects.toThrow(TypeError);
  });
});
