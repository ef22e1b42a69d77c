// Bad input on every command of the built bin: exit 2, one line on stderr naming the problem, nothing
// on stdout, never a stack trace — and `bench churn` human output follows the same colour rule as
// doctor and preflight (only a terminal gets escapes, whatever CI or picocolors' defaults say).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { netnsIt } from '../helpers/netns.js';
import { tempDir } from '../helpers/temp-dir.js';
import { buildBin, ESCAPE, runCli } from './cli.js';

beforeAll(() => buildBin(), 180_000);

function configFiles(): Record<string, string> {
  const dir = tempDir('safebind-bad-input-');
  const files: Record<string, string> = {
    array: '[1, 2]',
    notJson: 'bind = 10.0.0.50:8080',
    wrongType: '{ "bind": [{ "host": "127.0.0.1", "port": 0, "freebind": "yes" }] }',
    badPort: '{ "bind": [{ "host": "127.0.0.1", "port": "http" }] }',
    unknownKey: '{ "listen": ["127.0.0.1:80"] }',
    hostName: '{ "bind": ["db.internal:5432"] }',
  };
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    paths[name] = join(dir, `${name}.json`);
    writeFileSync(paths[name], text);
  }
  return paths;
}

function badInputs(config: Record<string, string>): string[][] {
  const c = (name: string) => config[name] ?? '/nonexistent';
  return [
    ['doctor', '--dest', 'nonsense'],
    ['doctor', '--dest', '1.2.3.4'],
    ['doctor', '--dest', '1.2.3.4:99999'],
    ['doctor', '--dest', '[::1]'],
    ['doctor', '--dest', '999.1.1.1:80'],
    ['doctor', '--dest', ''],
    ['preflight'],
    ['preflight', '--bind', 'nonsense'],
    ['preflight', '--bind', 'db.internal:5432'],
    ['preflight', '--bind', '10.0.0.50:70000'],
    ['preflight', '--connect', '::1:80'],
    ['preflight', '--connect', '127.0.0.1:0'],
    ['preflight', '--connect', `${'a'.repeat(5000)}:80`],
    ['preflight', '--bind', '[fe80::1%lo\u001b[2J]:80'],
    ['preflight', '--bind', '127.0.0.1:0', '--wait', '-1'],
    ['preflight', '--bind', '127.0.0.1:0', '--wait', 'abc'],
    ['preflight', '--freebind', '--connect', '127.0.0.1:80'],
    ['preflight', '--wiat', '3', '--bind', '127.0.0.1:0'],
    ['preflight', '--bind', '-V'],
    ['preflight', '--bind', '--json'],
    ['preflight', '-V'],
    ['doctor', '--dest', '-V'],
    ['nonsense'],
    ['preflight', '--config', '/nonexistent'],
    ['preflight', '--config', c('array')],
    ['preflight', '--config', c('notJson')],
    ['preflight', '--config', c('wrongType')],
    ['preflight', '--config', c('badPort')],
    ['preflight', '--config', c('unknownKey')],
    ['preflight', '--config', c('hostName')],
    ['bench', 'churn', '--duration', '-1'],
    ['bench', 'churn', '--duration', '0'],
    ['bench', 'churn', '--count', 'abc'],
    ['bench', 'churn', '--count', '0'],
    ['bench', 'churn', '--concurrency', '0'],
    ['bench', 'churn', '--mode', 'x'],
    ['bench', 'churn', '--duration', '1', '--count', '5'],
    ['bench', 'churn', '--target', 'nonsense'],
    ['bench', 'churn', '--target', '127.0.0.1:0'],
    ['bench', 'churn', '--target', '999.1.1.1:80'],
    ['bench', 'churn', '--source', '1.2.3.', '--count', '1'],
    ['bench', 'churn', '--local-port-range', '5-1'],
    ['bench', 'churn', '--pool', '5'],
    ['bench', 'churn', '--bind-no-port', '--count', '1'],
  ];
}

describe('safebind given bad input', () => {
  netnsIt(
    'every command refuses bad flags, targets and config files with exit 2 and one line, no stack trace',
    async () => {
      const cases = badInputs(configFiles());
      const runs = await Promise.all(cases.map((args) => runCli(args, { NO_COLOR: '1' })));
      const wrong = runs
        .map((run, i) => ({ args: (cases[i] ?? []).join(' '), ...run }))
        .filter(
          (r) =>
            r.status !== 2 ||
            r.stdout !== '' ||
            !/^safebind: \S/.test(r.stderr) ||
            r.stderr.trim().split('\n').length !== 1 ||
            /^\s+at /m.test(r.stderr),
        )
        .map(
          (r) => `safebind ${r.args} → exit ${r.status}, stdout ${r.stdout.length} chars, stderr ${r.stderr}`,
        );
      expect(wrong).toEqual([]);
    },
    120_000,
  );

  netnsIt('--connect :5432 says what a connect target needs, not the wildcard of a bind', async () => {
    const run = await runCli(['preflight', '--connect', ':5432'], { NO_COLOR: '1' });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      'safebind: --connect :5432: ":5432" has no host: a connect target needs the host name or address to reach and a port, e.g. db.internal:5432 or 10.0.0.7:5432\n',
    );
    const bind = await runCli(['preflight', '--bind', ':5432'], { NO_COLOR: '1' });
    expect(bind.stderr).toContain('write 0.0.0.0:5432 or [::]:5432 for every address');
  });

  netnsIt(
    'output that cannot be written: one line and status 1 for a full disk, no stack trace when the reader left',
    async () => {
      // /dev/full refuses every write with ENOSPC, as a full disk does.
      const full = await runCli(['doctor'], {}, 60_000, ['sh', '-c', 'exec "$@" > /dev/full', 'sh']);
      expect(full.stderr).toBe('safebind: cannot write the output: ENOSPC\n');
      expect(full.status).toBe(1);
      // A reader that closed the pipe before the first write: EPIPE, no stack trace.
      const gone = await runCli(['doctor'], {}, 60_000, ['sh', '-c', 'exec "$@" | true; sleep 0', 'sh']);
      expect(gone.stderr).toBe('');
    },
  );

  netnsIt('a mistyped option gives one safebind: line with the suggestion', async () => {
    const run = await runCli(['preflight', '--wiat', '3'], { NO_COLOR: '1' });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      "safebind: unknown option '--wiat' (Did you mean --wait?) (run with --help for usage)\n",
    );
  });

  netnsIt('--bind -V is a usage error naming -V, not the version with exit 0', async () => {
    const run = await runCli(['preflight', '--bind', '-V'], { NO_COLOR: '1' });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^safebind: option '--bind <host:port>' argument '-V' is invalid/);
  });

  netnsIt('bench churn --duration and --count together are refused, saying which does what', async () => {
    const run = await runCli(['bench', 'churn', '--duration', '2', '--count', '100']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/not both: --duration stops after a time, --count after N connects/);
    const help = await runCli(['bench', 'churn', '--help']);
    expect(help.stdout).toMatch(/--duration <seconds>[^-]*not\s+with\s+--count/);
    expect(help.stdout).toMatch(/--count <n>[^-]*not\s+with\s+--duration/);
  });

  netnsIt('bench churn prints no colour into a pipe, even with CI or FORCE_COLOR=0 set', async () => {
    const envs: Array<Record<string, string>> = [
      { CI: 'true' },
      { FORCE_COLOR: '0' },
      { NO_COLOR: '1', FORCE_COLOR: '1' },
    ];
    for (const env of envs) {
      const run = await runCli(['bench', 'churn', '--count', '5'], env);
      expect(run.status, JSON.stringify(env)).toBe(0);
      expect(run.stdout, JSON.stringify(env)).toContain('connects');
      expect(ESCAPE.test(run.stdout), JSON.stringify(env)).toBe(false);
    }
  });

  netnsIt('bench churn colours its report when asked with FORCE_COLOR', async () => {
    const run = await runCli(['bench', 'churn', '--count', '5'], { FORCE_COLOR: '1' });
    expect(run.status).toBe(0);
    expect(ESCAPE.test(run.stdout)).toBe(true);
  });
});
