// Per-process IP_LOCAL_PORT_RANGE slices: on this kernel (6.3+) a connection's source port comes from
// the slice; on an older kernel — emulated by a seccomp filter that makes exactly that setsockopt fail
// with ENOPROTOOPT, as a kernel that does not know the option answers — every call says so as a typed
// failure instead of crashing.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createAgent, localPortRangeSlice } from '../../lib/agent.js';
import { safeConnect } from '../../lib/api/safe-connect.js';
import { echoServer } from '../api/helpers.js';
import { ensureBuilt, root } from '../bench/cli.js';
import { netnsIt } from '../helpers/netns.js';
import { withoutLocalPortRange } from '../helpers/seccomp.js';

beforeAll(() => ensureBuilt(), 180_000);

describe('IP_LOCAL_PORT_RANGE slices', () => {
  netnsIt(
    'slice 2 of 4 of the range, and connections from safeConnect and the agent stay in it',
    async (ns) => {
      ns.sysctl('net.ipv4.ip_local_port_range', '40000 40399');
      const slice = localPortRangeSlice(2, 4);
      expect(slice).toEqual({ ok: true, value: [40200, 40299] });
      if (!slice.ok) return;
      await echoServer(15100);
      const r = await safeConnect({
        host: '127.0.0.1',
        port: 15100,
        sources: ['127.0.0.2'],
        localPortRange: slice.value,
      });
      if (!r.ok) throw new Error(r.diagnosis.summary);
      onTestFinished(() => {
        r.socket.destroy();
      });
      expect(r.socket.localPort).toBeGreaterThanOrEqual(40200);
      expect(r.socket.localPort).toBeLessThanOrEqual(40299);

      const server = http.createServer((req, res) => res.end(String(req.socket.remotePort)));
      await new Promise<void>((resolve) => server.listen(15101, '127.0.0.1', resolve));
      onTestFinished(() => {
        server.close();
      });
      const agent = createAgent({ sources: ['127.0.0.3'], localPortRange: slice.value });
      onTestFinished(() => agent.destroy());
      const port = await new Promise<number>((resolve, reject) =>
        http
          .get({ host: '127.0.0.1', port: 15101, agent }, (res) => {
            let b = '';
            res.on('data', (d: Buffer) => (b += d.toString())).on('end', () => resolve(Number(b)));
          })
          .on('error', reject),
      );
      expect(port).toBeGreaterThanOrEqual(40200);
      expect(port).toBeLessThanOrEqual(40299);
    },
  );

  it('a bad slice is a TypeError; more slices than ports is a failed Result', () => {
    expect(() => localPortRangeSlice(4, 4)).toThrow(TypeError);
    expect(() => localPortRangeSlice(0.5, 4)).toThrow(TypeError);
    const many = localPortRangeSlice(0, 100_000);
    expect(many.ok).toBe(false);
  });

  it('before Linux 6.3 (setsockopt ENOPROTOOPT): localPortRangeSlice, safeConnect and the agent fail typed', () => {
    const [wrapper = '', ...refusal] = withoutLocalPortRange();
    const script = `
      const agentLib = await import(${JSON.stringify(join(root, 'dist', 'agent.js'))});
      const lib = await import(${JSON.stringify(join(root, 'dist', 'index.js'))});
      const http = await import('node:http');
      const slice = agentLib.localPortRangeSlice(0, 2);
      const c = await lib.safeConnect({ host: '127.0.0.1', port: 9, sources: ['127.0.0.1'], localPortRange: [40000, 40009] });
      const agent = agentLib.createAgent({ sources: ['127.0.0.1'], localPortRange: [40000, 40009] });
      const e = await new Promise((resolve) => http.get({ host: '127.0.0.1', port: 9, agent }, () => resolve(null)).on('error', resolve));
      console.log(JSON.stringify({ slice, connect: { ok: c.ok, error: c.error, cause: c.diagnosis?.cause }, agent: { code: e?.code, syscall: e?.syscall } }));
    `;
    const r = spawnSync(wrapper, [...refusal, process.execPath, '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as {
      slice: { ok: boolean; error: { syscall: string; code: string } };
      connect: { ok: boolean; error: { syscall: string; code: string }; cause: string };
      agent: { code: string; syscall: string };
    };
    expect([out.slice.ok, out.slice.error.syscall, out.slice.error.code]).toEqual([
      false,
      'setsockopt',
      'ENOPROTOOPT',
    ]);
    expect([out.connect.ok, out.connect.error.syscall, out.connect.error.code]).toEqual([
      false,
      'setsockopt',
      'ENOPROTOOPT',
    ]);
    expect(typeof out.connect.cause).toBe('string');
    expect(out.agent).toEqual({ code: 'ENOPROTOOPT', syscall: 'setsockopt' });
  });
});
