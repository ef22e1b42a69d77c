// The commands safebind prints are pasted into root shells: a host-supplied value in one (an
// interface named `a$(id)`, which the kernel allows) must paste as that literal word and run
// nothing; and host-supplied names with escape bytes (an interface, a process's comm) must not reach
// the terminal as escape sequences.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { beforeAll, describe, expect, onTestFinished } from 'vitest';
import { explain } from '../../lib/api/explain.js';
import { netnsIt, type Netns } from '../helpers/netns.js';
import { buildBin, runCli } from './cli.js';

beforeAll(() => buildBin(), 180_000);

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const EVIL = 'a$(id)';

interface Report {
  checks: Array<{ diagnosis?: { remediation: Array<{ commands?: string[] }> } }>;
}

/** A veth named `name` (its peer `sbq1`), up, holding 10.70.0.1/24. */
function linkNamed(ns: Netns, name: string): void {
  execFileSync('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', 'sbq1']);
  execFileSync('ip', ['addr', 'add', '10.70.0.1/24', 'dev', name]);
  execFileSync('ip', ['link', 'set', name, 'up']);
  expect(ns.run('ip -o link show')).toContain(name);
}

/**
 * The words a shell makes of `command` when pasted, `ip` replaced by a function that prints its
 * arguments one per line: a `$(id)` that was not quoted would run and print uid=….
 */
function pastedWords(command: string): string[] {
  execFileSync('sh', ['-n', '-c', command]);
  const out = execFileSync('sh', ['-c', `ip() { printf '%s\\n' "$@"; }; ${command}`], { encoding: 'utf8' });
  return out.trimEnd().split('\n');
}

describe('pasteable commands', () => {
  netnsIt(
    'an interface named a$(id) is quoted in the printed command, and pasting it runs nothing',
    async (ns) => {
      linkNamed(ns, EVIL);
      const run = await runCli(['preflight', '--bind', '10.70.0.50:8080'], { NO_COLOR: '1' });
      expect(run.status).toBe(1);
      expect(run.stdout).toContain('address-not-local');
      const printed = run.stdout
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.startsWith('ip addr add 10.70.0.50/24'));
      expect(printed).toEqual([`ip addr add 10.70.0.50/24 dev 'a$(id)'`]);
      const words = pastedWords(printed[0] ?? '');
      expect(words).toEqual(['addr', 'add', '10.70.0.50/24', 'dev', EVIL]);
      expect(words.join(' ')).not.toMatch(/uid=/);

      // The same command in the JSON document, and every other command of the report, is safe to paste.
      const json = await runCli(['preflight', '--bind', '10.70.0.50:8080', '--json']);
      const report = JSON.parse(json.stdout) as Report;
      const commands = report.checks[0]?.diagnosis?.remediation.flatMap((r) => r.commands ?? []) ?? [];
      expect(commands).toContain(`ip addr add 10.70.0.50/24 dev 'a$(id)'`);
      for (const command of commands.filter((c) => c.startsWith('ip '))) {
        expect(pastedWords(command).join(' ')).not.toMatch(/uid=/);
      }
    },
  );

  netnsIt('the commands for a link that is down quote its name too', async (ns) => {
    execFileSync('ip', ['link', 'add', EVIL, 'type', 'veth', 'peer', 'name', 'sbq1']);
    execFileSync('ip', ['addr', 'add', 'fd00:70::1/64', 'dev', EVIL]);
    expect(ns.run('ip -6 addr show')).toContain('tentative');
    const json = await runCli(['preflight', '--bind', '[fd00:70::1]:8080', '--json']);
    const report = JSON.parse(json.stdout) as Report;
    const commands = report.checks[0]?.diagnosis?.remediation.flatMap((r) => r.commands ?? []) ?? [];
    expect(commands).toContain(`ip link set 'a$(id)' up`);
    expect(commands).toContain(`ip addr add fd00:70::1/64 dev 'a$(id)' nodad`);
    for (const command of commands.filter((c) => c.startsWith('ip '))) {
      expect(pastedWords(command)).toContain(EVIL);
    }
  });

  netnsIt('an interface name with an escape byte reaches the terminal escaped', async (ns) => {
    const name = 'e\u001b[31m';
    linkNamed(ns, name);
    const run = await runCli(['preflight', '--bind', '10.70.0.50:8080'], { NO_COLOR: '1' });
    expect(run.status).toBe(1);
    expect(run.stdout).not.toMatch(CONTROL);
    expect(run.stdout).toContain('e\\x1b[31m');
  });

  netnsIt(
    'explain() of a Node listen error quotes the command and escapes the text, evidence kept exact',
    async (ns) => {
      const name = 'a$(id)\u001b[2J';
      linkNamed(ns, name);
      const server = net.createServer();
      const error = await new Promise<Error>((resolve) => {
        server.once('error', resolve);
        server.listen(8080, '10.70.0.50');
      });
      const d = await explain(error);
      expect(d.cause).toBe('address-not-local');
      expect(d.remediation[1]?.commands).toEqual([`ip addr add 10.70.0.50/24 dev 'a$(id)\\x1b[2J'`]);
      const text = [
        d.summary,
        ...d.details,
        ...d.remediation.flatMap((r) => [r.title, ...(r.commands ?? [])]),
      ];
      expect(text.filter((line) => CONTROL.test(line))).toEqual([]);
      expect((d.evidence['subnet'] as { interface: string }).interface).toBe(name);
    },
  );

  netnsIt('a port holder whose command name has an escape byte is named escaped', async () => {
    // A process that renames itself (its comm) with terminal escapes, then holds port 8081.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `require('fs').writeFileSync('/proc/self/comm', 'x\\u001b]0;pwn\\u0007');
         require('net').createServer().listen(8081, '127.0.0.1', () => console.log('ready'));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    onTestFinished(() => {
      holder.kill();
    });
    await once(holder.stdout, 'data');
    const run = await runCli(['preflight', '--bind', '127.0.0.1:8081'], { NO_COLOR: '1' });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('port-in-use');
    expect(run.stdout).toContain(`x\\x1b]0;pwn\\x07 (pid ${holder.pid})`);
    expect(run.stdout).not.toMatch(CONTROL);
  });
});
