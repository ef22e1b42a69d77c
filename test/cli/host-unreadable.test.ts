// When the host cannot be read, doctor says so: what was not read is reported as not read, never as
// a fact. The CLI runs in the test's namespace, where TCP sockets exist, with sock_diag refused by a
// seccomp filter (test/helpers/seccomp.ts) and /proc or /proc/sys/net hidden under an empty
// tmpfs in a mount namespace of its own. Before, it printed "no TCP sockets", "IPv6 is not
// available in this kernel" and pools computed from the default port range.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { HostReport } from '../../lib/types.js';
import { netnsIt } from '../helpers/netns.js';
import { refusingSockDiag } from '../helpers/seccomp.js';
import { bin, buildBin, root } from './cli.js';

let dir = '';
let noSockDiag: string[] = [];

beforeAll(() => {
  buildBin();
  dir = mkdtempSync(join(tmpdir(), 'safebind-unreadable-'));
  noSockDiag = refusingSockDiag();
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `safebind …args` (or `node …args` with `nodeArgsOnly`) in a mount namespace where `hide` is an
 * empty tmpfs, with sock_diag refused or not.
 */
function doctorHidden(
  hide: string,
  refuseSockDiag: boolean,
  args: string[],
  nodeArgsOnly = false,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const run = [
    ...(refuseSockDiag ? noSockDiag : []),
    process.execPath,
    ...(nodeArgsOnly ? [] : [bin]),
    ...args,
  ]
    .map((a) => `'${a}'`)
    .join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs none ${hide} && exec ${run}`],
      { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A listener and three connections to it, held open while the test runs: the table is not empty. */
async function someSockets(): Promise<{ port: number; close(): void }> {
  const server = net.createServer(() => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const clients = await Promise.all(
    [1, 2, 3].map(
      () =>
        new Promise<net.Socket>((r) => {
          const s = net.connect(port, '127.0.0.1', () => r(s));
        }),
    ),
  );
  return {
    port,
    close() {
      for (const c of clients) c.destroy();
      server.close();
    },
  };
}

describe('doctor when the host cannot be read', () => {
  netnsIt(
    'sock_diag refused and /proc hidden: sockets and sysctls "could not be read", no "no TCP sockets", no claim about IPv6',
    async () => {
      const held = await someSockets();
      try {
        const text = await doctorHidden('/proc', true, ['doctor']);
        expect(text.status).toBe(0);
        expect(text.stdout).not.toContain('no TCP sockets');
        expect(text.stdout).not.toContain('no outbound connections');
        expect(text.stdout).not.toContain('IPv6 is not available');
        expect(text.stdout).toMatch(
          /TCP sockets by state\n {2}could not be read: sock_diag refused \(EPERM\) and \/proc\/net unreadable/,
        );
        expect(text.stdout).toMatch(/ip_local_port_range +could not be read: ENOENT/);

        const json = await doctorHidden('/proc', true, ['doctor', '--json']);
        const report = JSON.parse(json.stdout) as HostReport;
        expect(report.notRead?.sockets).toMatch(/^sock_diag refused \(EPERM\) and \/proc\/net unreadable/);
        expect(report.notRead?.topDestinations).toBeDefined();
        expect(report.notRead?.['net.ipv4.ip_local_port_range']).toBe('ENOENT');
        expect(report.notRead?.['net.ipv6.conf.all.disable_ipv6']).toMatch(/IPv6 unknown/);
        expect(report.sysctls).toEqual({});
        expect(report.warnings.join('\n')).not.toContain('IPv6 is not available');
        // The addresses come from rtnetlink, which was not refused: still read.
        expect(report.addresses.map((a) => a.address)).toContain('127.0.0.1');
      } finally {
        held.close();
      }
    },
    60_000,
  );

  netnsIt(
    '/proc/sys/net hidden: sockets are counted, but no pool is computed from a default range',
    async () => {
      const held = await someSockets();
      try {
        const dest = `127.0.0.1:${held.port}`;
        const json = await doctorHidden('/proc/sys/net', false, ['doctor', '--json', '--dest', dest]);
        const report = JSON.parse(json.stdout) as HostReport & {
          sockets: { topDestinations: Array<{ poolSize: unknown; usage: unknown; range: unknown }> };
        };
        expect(report.notRead?.sockets).toBeUndefined();
        expect(report.sockets.byState.ESTABLISHED).toBe(6);
        const pool = report.sockets.topDestinations.find((p) => p.destination === dest);
        expect(pool?.inUse).toBe(3);
        expect(pool?.notRead).toBe(
          'net.ipv4.ip_local_port_range: ENOENT, net.ipv4.ip_local_reserved_ports: ENOENT',
        );
        // NaN in the object, null in JSON: never 28,232 from the kernel's default range.
        expect(pool?.poolSize).toBeNull();
        expect(pool?.usage).toBeNull();
        expect(pool?.range).toEqual([null, null]);

        const text = await doctorHidden('/proc/sys/net', false, ['doctor', '--dest', dest]);
        expect(text.stdout).toContain(
          `${dest}  3 sockets; pool could not be read: net.ipv4.ip_local_port_range: ENOENT`,
        );
        expect(text.stdout).not.toContain('28,232');
        expect(text.stdout).not.toContain('IPv6 is not available');

        // preflight checks the same pool before a connect: it says it could not read it.
        const pre = await doctorHidden('/proc/sys/net', false, ['preflight', '--connect', dest, '--json']);
        const checks = (JSON.parse(pre.stdout) as { checks: Array<{ warnings?: string[] }> }).checks;
        expect(checks[0]?.warnings).toContain(
          `the source-port pool toward ${dest} could not be read: net.ipv4.ip_local_port_range: ENOENT, net.ipv4.ip_local_reserved_ports: ENOENT`,
        );

        // The Prometheus gauges: the count is exported, the ratio and the range size are not.
        const script = join(dir, 'metrics.mjs');
        writeFileSync(
          script,
          `import { createRequire } from 'node:module';\n` +
            `const { Registry } = createRequire(${JSON.stringify(join(root, 'package.json'))})('prom-client');\n` +
            `const { registerMetrics } = await import(${JSON.stringify(join(root, 'dist', 'prometheus.js'))});\n` +
            `const r = new Registry();\nregisterMetrics(r, { destinations: [${JSON.stringify(dest)}] });\n` +
            `process.stdout.write(await r.metrics());\n`,
        );
        const metrics = await doctorHidden('/proc/sys/net', false, [script], true);
        expect(metrics.stderr).toBe('');
        expect(metrics.stdout).toContain(`safebind_port_pool_in_use{destination="${dest}"} 3`);
        expect(metrics.stdout).not.toMatch(/^safebind_port_pool_usage_ratio\{/m);
        expect(metrics.stdout).not.toMatch(/^safebind_port_range_size /m);
      } finally {
        held.close();
      }
    },
    60_000,
  );
});
