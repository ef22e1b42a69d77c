// The `bench churn` command line: `--json` prints exactly one document of the documented shape, a
// chart file is self-contained, and bad flags exit 2 with one clear line and no stack trace.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { netnsIt } from '../helpers/netns.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ensureBuilt, safebind, safebindAsync } from './cli.js';

beforeAll(ensureBuilt, 120_000);

describe('bench churn CLI', () => {
  netnsIt('--json prints one document with the documented shape', () => {
    const r = safebind(['bench', 'churn', '--duration', '0.5', '--concurrency', '2', '--json']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      mode: 'native',
      target: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      connects: expect.any(Number),
      durationMs: expect.any(Number),
      ratePerSec: expect.any(Number),
      latencyUs: {
        p50: expect.any(Number),
        p90: expect.any(Number),
        p99: expect.any(Number),
        max: expect.any(Number),
      },
      errors: {},
      timeWaitPeak: expect.any(Number),
    });
    expect(doc.connects).toBeGreaterThan(0);
    expect(doc.durationMs).toBeGreaterThanOrEqual(500);
    const l = doc.latencyUs as Record<string, number>;
    expect(l.p50).toBeLessThanOrEqual(l.p90 ?? 0);
    expect(l.p99).toBeLessThanOrEqual((l.max ?? 0) * 1.01);
    expect(doc).not.toHaveProperty('firstFailure');
  });

  netnsIt('a churn in which no connection succeeds exits 1 and says so, after its report', () => {
    // Port 9 of this namespace's loopback: nobody listens, every connect is refused.
    const r = safebind(['bench', 'churn', '--target', '127.0.0.1:9', '--count', '20', '--json']);
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout) as { connects: number; errors: Record<string, number> };
    expect(doc).toMatchObject({ connects: 0, errors: { ECONNREFUSED: 20 } });
    expect(r.stderr).toBe('safebind: bench churn: no connection succeeded (ECONNREFUSED ×20)\n');
  });

  netnsIt(
    '--target churns against a listener someone else runs, and --chart writes a self-contained page',
    async () => {
      let accepted = 0;
      const server = net.createServer((c) => {
        accepted++;
        c.on('error', () => {});
        c.resume();
        c.on('end', () => c.destroy());
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as net.AddressInfo).port;
      const dir = tempDir('safebind-churn-');
      const chart = join(dir, 'chart.html');
      const r = await safebindAsync([
        'bench',
        'churn',
        '--target',
        `127.0.0.1:${port}`,
        '--count',
        '300',
        '--mode',
        'node',
        '--chart',
        chart,
        '--json',
      ]);
      expect(r.status).toBe(0);
      const doc = JSON.parse(r.stdout) as { target: string; connects: number; mode: string };
      expect(doc).toMatchObject({ target: `127.0.0.1:${port}`, connects: 300, mode: 'node' });
      // The server's accept callbacks run on this event loop, possibly after the child has exited.
      for (let i = 0; i < 100 && accepted < 300; i++) await new Promise((r) => setTimeout(r, 10));
      expect(accepted).toBe(300);
      server.close();
      const html = readFileSync(chart, 'utf8');
      expect(html).toContain('uPlot');
      expect(html).not.toMatch(/<script[^>]+src=/);
    },
  );

  const bad: Array<[string[], RegExp]> = [
    [['--concurrency', '0'], /--concurrency must be between 1 and 10000, not 0/],
    [['--mode', 'turbo'], /--mode takes native or node, not 'turbo'/],
    [['--duration', '1', '--count', '5'], /give --duration or --count, not both/],
    [['--target', 'localhost'], /--target takes HOST:PORT/],
    [['--target', '127.0.0.1:70000'], /--target port must be between 1 and 65535/],
    [['--local-port-range', '5000-4000'], /LO is above HI/],
    [['--pool', '50'], /--pool only applies with --rehearse/],
    [['--rehearse', '--pool', 'many'], /--pool takes a whole number/],
    [['--bind-no-port'], /--bind-no-port needs --source/],
    [['--bogus'], /unknown option '--bogus'/],
  ];
  for (const [args, message] of bad) {
    it(`bad flags ${args.join(' ')} exit 2 with one clear line`, () => {
      const r = safebind(['bench', 'churn', ...args]);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => !l.startsWith('(run with')).length,
      ).toBe(1);
    });
  }
});
