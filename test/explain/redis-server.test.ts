// Real redis-server from Debian, started in the test's own namespace (issue 13): a port it holds is
// blamed on it by name and pid, and a VIP it cannot bind makes redis fail with its own "Cannot
// assign requested address" while `safebind preflight` explains address-not-local, naming the
// interface whose subnet holds the VIP.
import net from 'node:net';
import { beforeAll, describe, expect, type TestContext } from 'vitest';
import { explain } from '../../lib/index.js';
import type { PortHolder } from '../../lib/host/types.js';
import { netnsIt } from '../helpers/netns.js';
import { listening, need, start, type Started } from '../helpers/real-software.js';
import { tempDir } from '../helpers/temp-dir.js';
import { buildBin, runCli } from '../cli/cli.js';
import { commands, listenError } from './helpers.js';

beforeAll(() => buildBin(), 180_000);

/** redis-server in the foreground, no persistence, its files in a temp folder. */
function redis(ctx: TestContext, bind: string, port: number): Started {
  const binary = need(ctx, 'redis-server');
  const dir = tempDir('safebind-redis-');
  return start([
    binary,
    '--port',
    String(port),
    '--bind',
    bind,
    '--daemonize',
    'no',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--protected-mode',
    'no',
  ]);
}

interface PreflightReport {
  ok: boolean;
  checks: Array<{
    target: string;
    ok: boolean;
    diagnosis?: {
      cause: string;
      summary: string;
      details: string[];
      evidence: Record<string, unknown>;
      remediation: Array<{ title: string; commands?: string[] }>;
    };
  }>;
}

describe('real redis-server in a private namespace', () => {
  netnsIt(
    'redis-server holding 127.0.0.1:6379: a listen there explains port-in-use, naming redis-server and its pid',
    async (ns, ctx) => {
      const server = redis(ctx, '127.0.0.1', 6379);
      await listening(ns, 6379);

      const err = await listenError(net.createServer(), 6379, '127.0.0.1');
      expect(err.code).toBe('EADDRINUSE');
      const d = await explain(err);
      expect(d.cause).toBe('port-in-use');
      const holders = d.evidence['holders'] as PortHolder[];
      expect(holders.map((h) => [h.local, h.localPort, h.pid, h.command])).toEqual([
        ['127.0.0.1', 6379, server.pid, 'redis-server'],
      ]);
      expect(d.summary).toBe(
        `Cannot bind 127.0.0.1:6379: port 6379 is taken, redis-server (pid ${server.pid}) listens on 127.0.0.1:6379`,
      );
      expect(commands(d)).toContain(`kill ${server.pid}`);

      // The same through the CLI an operator runs before starting a second instance.
      const run = await runCli(['preflight', '--bind', '127.0.0.1:6379', '--json']);
      expect(run.status).toBe(1);
      const check = (JSON.parse(run.stdout) as PreflightReport).checks[0];
      expect(check?.diagnosis?.cause).toBe('port-in-use');
      expect(check?.diagnosis?.summary).toContain(`redis-server (pid ${server.pid})`);
    },
    30_000,
  );

  netnsIt(
    'redis-server told to bind a VIP on no interface fails with its own EADDRNOTAVAIL; preflight explains address-not-local and names the interface of its subnet',
    async (ns, ctx) => {
      const vip = '10.61.0.50';
      // Before any subnet of the VIP is here: nothing to name.
      const bare = await runCli(['preflight', '--bind', `${vip}:6379`, '--json']);
      expect(bare.status).toBe(1);
      const bareCheck = (JSON.parse(bare.stdout) as PreflightReport).checks[0];
      expect(bareCheck?.diagnosis?.cause).toBe('address-not-local');

      ns.run('ip link add rv0 type veth peer name rv1');
      ns.run('ip addr add 10.61.0.1/24 dev rv0');
      ns.run('ip link set rv0 up');

      const server = redis(ctx, vip, 6379);
      const code = await server.exited;
      expect(code).not.toBe(0);
      expect(server.output()).toMatch(
        /Could not create server TCP listening socket 10\.61\.0\.50:6379: bind: Cannot assign requested address/,
      );

      const run = await runCli(['preflight', '--bind', `${vip}:6379`, '--json']);
      expect(run.status).toBe(1);
      const check = (JSON.parse(run.stdout) as PreflightReport).checks[0];
      expect(check?.target).toBe(`${vip}:6379`);
      expect(check?.diagnosis?.cause).toBe('address-not-local');
      expect(check?.diagnosis?.remediation.flatMap((r) => r.commands ?? [])).toContain(
        `ip addr add ${vip}/24 dev rv0`,
      );
      expect(JSON.stringify(check?.diagnosis?.evidence)).toContain('rv0');
      expect(bareCheck?.diagnosis?.remediation.flatMap((r) => r.commands ?? [])).not.toContain(
        `ip addr add ${vip}/24 dev rv0`,
      );
    },
    30_000,
  );
});
