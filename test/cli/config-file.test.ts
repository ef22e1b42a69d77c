// `safebind preflight --config FILE` reads only a regular file of sane size: a FIFO, a device or a
// huge file is refused at once with exit 2, and no error line repeats a huge value from the file.
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netnsIt } from '../helpers/netns.js';
import { buildBin, runCli, type CliRun } from './cli.js';

beforeAll(() => buildBin(), 180_000);

const dir = mkdtempSync(join(tmpdir(), 'safebind-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Refused as bad usage: exit 2, one short `safebind:` line on stderr, nothing on stdout, no stack. */
function expectRefused(run: CliRun, reason: RegExp): void {
  expect(run.status).toBe(2);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(/^safebind: /);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr.length).toBeLessThan(500);
  expect(run.stderr).toMatch(reason);
}

describe('preflight --config', () => {
  it('a FIFO is refused at once instead of waiting for a writer', async () => {
    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    const run = await runCli(['preflight', '--config', fifo], {}, 15_000);
    expectRefused(run, /is a FIFO; give a regular file/);
  });

  it('/dev/zero is refused, not read until memory runs out', async () => {
    const run = await runCli(['preflight', '--config', '/dev/zero'], {}, 15_000);
    expectRefused(run, /\/dev\/zero is a character device; give a regular file/);
  });

  it('a file larger than the limit is refused before it is read', async () => {
    const big = join(dir, 'big.json');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 100 * 1024 * 1024); // sparse: 100 MB on paper, nothing on disk
    closeSync(fd);
    const run = await runCli(['preflight', '--config', big], {}, 15_000);
    expectRefused(run, /is larger than 1048576 bytes, the most a config file may have/);
  });

  netnsIt('a probe timeout above 2^31-1 ms in the file is honoured, not fired after 1 ms', async (ns) => {
    // A neighbour that never answers ARP: the probe ends with EHOSTUNREACH after about 3 s.
    ns.run('ip link add sbcf0 type veth peer name sbcf1');
    ns.run('ip addr add 10.66.0.1/24 dev sbcf0');
    ns.run('ip link set sbcf0 up');
    ns.run('ip link set sbcf1 up');
    const file = join(dir, 'long-timeout.json');
    writeFileSync(
      file,
      JSON.stringify({ connect: [{ host: '10.66.0.2', port: 80, probe: true, timeout: 2 ** 32 }] }),
    );
    const run = await runCli(['preflight', '--config', file, '--json'], {}, 20_000);
    expect(run.stderr).not.toContain('TimeoutOverflowWarning');
    const report = JSON.parse(run.stdout) as { checks: Array<{ diagnosis?: { code: string } }> };
    expect(report.checks[0]?.diagnosis?.code).toBe('EHOSTUNREACH');
    expect(run.ms).toBeGreaterThan(1_000);
  });

  it('a huge value inside a file is quoted short in the one-line error', async () => {
    const cases: Record<string, string> = {
      host: JSON.stringify({ bind: [{ host: `10.0.0.${'9'.repeat(500_000)}`, port: 80 }] }),
      target: JSON.stringify({ connect: [`${'a'.repeat(500_000)}:80`] }),
      key: JSON.stringify({ [`x${'k'.repeat(500_000)}`]: [] }),
      protocol: JSON.stringify({ bind: [{ host: '127.0.0.1', port: 80, protocol: 'u'.repeat(500_000) }] }),
      escape: JSON.stringify({ bind: [`\u001b]0;owned\u0007\u001b[2J${'1'.repeat(10)}:80`] }),
    };
    for (const [name, text] of Object.entries(cases)) {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, text);
      const run = await runCli(['preflight', '--config', file], {}, 15_000);
      expectRefused(run, new RegExp(`--config ${file}`));
      // eslint-disable-next-line no-control-regex
      expect(run.stderr.trimEnd()).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    }
  });
});
