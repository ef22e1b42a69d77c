// A whole process without the addon (SAFEBIND_ADDON=none, as on a host where it cannot load):
// doctor's report, preflight, explain and portUsage still work from /proc and Node's own sockets,
// say once what they could not read, and what only the addon can do fails as a typed result.
// Loopback only, in this process's own namespace: nothing here needs the addon to make one.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Set before anything loads the addon: this file runs in its own process (pool 'forks', isolate).
process.env.SAFEBIND_ADDON = 'none';
const api = await import('../../lib/index.js');
const { hostReader } = await import('../../lib/host/reader.js');

let server: net.Server;
let port = 0;
beforeAll(async () => {
  server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('SAFEBIND_ADDON=none', () => {
  it('selects the no-addon reader, saying why', () => {
    expect(hostReader()).toMatchObject({ kind: 'no-addon', reason: 'SAFEBIND_ADDON=none' });
  });

  it('inspectHost reads addresses, sysctls and sockets, and says once what it could not read', async () => {
    const report = await api.inspectHost();
    expect(report.addresses.find((a) => a.address === '127.0.0.1')?.flags).toEqual(
      expect.arrayContaining(['up', 'running', 'loopback']),
    );
    expect(report.sysctls['net.ipv4.ip_local_port_range']).toMatch(/^\d+ \d+$/);
    expect(report.sockets.byState['LISTEN']).toBeGreaterThanOrEqual(1);
    expect(report.notRead?.['addon']).toMatch(/^SAFEBIND_ADDON=none: .*lower-up/);
    const said = report.warnings.filter((w) => w.startsWith('running without the native addon:'));
    expect(said).toHaveLength(1);
  });

  it('preflight binds with Node sockets: a free port passes, a taken one names its holder', async () => {
    const report = await api.preflight({ bind: ['127.0.0.1:0', `127.0.0.1:${port}`] });
    expect(report.checks[0]).toEqual({ kind: 'bind', target: '127.0.0.1:0', ok: true });
    const taken = report.checks[1]?.diagnosis;
    expect(taken?.cause).toBe('port-in-use');
    expect(taken?.evidence['holders']).toEqual([
      expect.objectContaining({ state: 'LISTEN', localPort: port, pid: process.pid }),
    ]);
  });

  it('an option only the addon sets fails as unsupported-platform saying so, and no check crashes', async () => {
    const report = await api.preflight({
      bind: [
        { host: '127.0.0.1', port: 0, freebind: true },
        { host: '127.0.0.1', port: 0, device: 'lo' },
      ],
    });
    expect(report.ok).toBe(false);
    expect(report.checks.map((c) => c.diagnosis?.cause)).toEqual([
      'unsupported-platform',
      'unsupported-platform',
    ]);
    expect(report.checks[0]?.diagnosis?.details[0]).toContain('freebind needs the native addon');
    expect(report.checks[1]?.diagnosis?.details[0]).toContain('device needs the native addon');
  });

  it('preflight connect checks route and pool, and a probe connects with net.connect', async () => {
    const report = await api.preflight({ connect: [`127.0.0.1:${port}`], probe: true });
    expect(report).toEqual({
      ok: true,
      checks: [{ kind: 'connect', target: `127.0.0.1:${port}`, ok: true }],
    });
  });

  it('explain of a real EADDRINUSE names the holder, and says once what was not read', async () => {
    const err = await new Promise<Error>((resolve) => {
      const other = net.createServer();
      other.once('error', resolve);
      other.listen(port, '127.0.0.1');
    });
    const d = await api.explain(err);
    expect(d.cause).toBe('port-in-use');
    expect(d.details.filter((line) => line.includes('running without the native addon'))).toHaveLength(1);
  });

  it('portUsage counts from /proc/net', async () => {
    const client = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    try {
      const usage = await api.portUsage({ host: '127.0.0.1', port });
      expect(usage.inUse).toBeGreaterThanOrEqual(1);
      expect(usage.byState['ESTABLISHED']).toBeGreaterThanOrEqual(1);
    } finally {
      client.destroy();
    }
  });

  it('safeBind, which hands out a descriptor only the addon makes, is unsupported-platform', async () => {
    const r = await api.safeBind({ host: '127.0.0.1', port: 0 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.diagnosis.cause).toBe('unsupported-platform');
  });
});
