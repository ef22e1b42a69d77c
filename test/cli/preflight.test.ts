// `safebind preflight` end to end through the built bin, each test in a namespace whose state it
// made: a VIP missing or attached late, IPv6 DAD, a full source-port pool, a port held by another
// process, no route, and targets that are not targets at all.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { netnsIt, vethToPeerOwning, type Netns } from '../helpers/netns.js';
import { tempDir } from '../helpers/temp-dir.js';
import { buildBin, ESCAPE, plain, runCli } from './cli.js';

beforeAll(() => buildBin(), 180_000);

interface Report {
  ok: boolean;
  checks: Array<{
    kind: 'bind' | 'connect';
    target: string;
    ok: boolean;
    warnings?: string[];
    diagnosis?: {
      cause: string;
      summary: string;
      details: string[];
      evidence: Record<string, unknown>;
      remediation: Array<{ title: string; commands?: string[]; option?: string }>;
    };
  }>;
}

/** ve0 up with 10.20.0.1/24, its peer ve1 down: a host whose subnet holds the VIP 10.20.0.50. */
function subnetWithoutVip(ns: Netns): void {
  ns.run('ip link add ve0 type veth peer name ve1');
  ns.run('ip addr add 10.20.0.1/24 dev ve0');
  ns.run('ip link set ve0 up');
}

function parseReport(stdout: string): Report {
  return JSON.parse(stdout) as Report;
}

describe('safebind preflight', () => {
  netnsIt(
    'a VIP that is not attached fails with exit 1, the cause, and `ip addr add` on the real interface',
    async (ns) => {
      subnetWithoutVip(ns);
      const run = await runCli(['preflight', '--bind', '10.20.0.50:8080']);
      expect(run.status).toBe(1);
      const out = run.stdout;
      expect(out).toMatch(/✖ bind\s+10\.20\.0\.50:8080/);
      expect(out).toContain('address-not-local');
      expect(out).toContain('ip addr add 10.20.0.50/24 dev ve0');
      expect(out).toContain('freebind: true');
      // The code option of a wait comes with the flag that does it here.
      expect(out).toMatch(
        /Wait for 10\.20\.0\.50 to become bindable .*; here: add --wait 30 to this preflight command\n/,
      );
      // The link was not asked who has 10.20.0.50: asking comes before adding it.
      const lines = out.split('\n');
      const ask = lines.findIndex((l) => l.includes('safebind preflight --probe --bind 10.20.0.50:8080'));
      expect(ask).toBeGreaterThan(-1);
      expect(ask).toBeLessThan(lines.findIndex((l) => l.includes('ip addr add 10.20.0.50/24 dev ve0')));
      // Asked, and nobody answers for it: the add is the first fix, with no step to ask again.
      const probed = await runCli(['preflight', '--probe', '--bind', '10.20.0.50:8080']);
      expect(probed.stdout).toContain('address-not-local');
      expect(probed.stdout).not.toContain('--probe --bind');
      expect(probed.stdout).toContain('ip addr add 10.20.0.50/24 dev ve0');
      // The last line stands alone in the journal: every failing target with its cause.
      expect(out.trimEnd().split('\n').at(-1)).toBe(
        'preflight failed: bind 10.20.0.50:8080 address-not-local',
      );

      // After a wait that ran out, the fix says how long it was and offers a longer one.
      const waited = await runCli(['preflight', '--bind', '10.20.0.50:8080', '--wait', '1']);
      expect(waited.stdout).toMatch(/Wait longer for 10\.20\.0\.50: [01]\.\d s were waited already/);

      const json = await runCli(['preflight', '--bind', '10.20.0.50:8080', '--json']);
      expect(json.status).toBe(1);
      expect(json.stderr).toBe('');
      const report = parseReport(json.stdout);
      expect(report.ok).toBe(false);
      expect(report.checks).toHaveLength(1);
      expect(report.checks[0]).toMatchObject({ kind: 'bind', target: '10.20.0.50:8080', ok: false });
      expect(report.checks[0]?.diagnosis?.cause).toBe('address-not-local');
      const commands = report.checks[0]?.diagnosis?.remediation.flatMap((r) => r.commands ?? []);
      expect(commands).toContain('ip addr add 10.20.0.50/24 dev ve0');
    },
  );

  netnsIt('--freebind passes for an address that is not attached', async (ns) => {
    subnetWithoutVip(ns);
    const run = await runCli(['preflight', '--bind', '10.20.0.50:8080', '--freebind']);
    expect(run.stdout).toMatch(/✔ bind\s+10\.20\.0\.50:8080/);
    expect(run.status).toBe(0);
  });

  netnsIt('net.ipv4.ip_nonlocal_bind=1 lets the same bind pass', async (ns) => {
    subnetWithoutVip(ns);
    ns.sysctl('net.ipv4.ip_nonlocal_bind', '1');
    const run = await runCli(['preflight', '--bind', '10.20.0.50:8080', '--json']);
    expect(run.status).toBe(0);
    const report = parseReport(run.stdout);
    expect(report.ok).toBe(true);
    expect(report.checks[0]?.ok).toBe(true);
  });

  netnsIt(
    '--wait passes as soon as the VIP is attached a second later, well before the wait ends',
    async (ns) => {
      subnetWithoutVip(ns);
      const pending = runCli(['preflight', '--bind', '10.20.0.50:8080', '--wait', '20']);
      await sleep(1000);
      ns.run('ip addr add 10.20.0.50/24 dev ve0');
      const run = await pending;
      expect(run.stdout).toMatch(/✔ bind\s+10\.20\.0\.50:8080/);
      expect(run.status).toBe(0);
      expect(run.ms).toBeGreaterThan(900);
      expect(run.ms).toBeLessThan(15_000); // the wait was 20 s
    },
  );

  netnsIt('--udp checks a UDP bind and labels the target with its protocol', async (ns) => {
    subnetWithoutVip(ns);
    const run = await runCli([
      'preflight',
      '--bind',
      '10.20.0.50:5353',
      '--bind',
      '10.20.0.1:5353',
      '--udp',
      '--json',
    ]);
    expect(run.status).toBe(1);
    const report = parseReport(run.stdout);
    expect(report.checks.map((c) => [c.target, c.ok])).toEqual([
      ['10.20.0.50:5353/udp', false],
      ['10.20.0.1:5353/udp', true],
    ]);
    expect(report.checks[0]?.diagnosis?.cause).toBe('address-not-local');
  });

  netnsIt('an IPv6 address still tentative (no carrier) fails as address-tentative', async (ns) => {
    ns.run('ip link add ve0 type veth peer name ve1');
    ns.run('ip link set ve0 up'); // ve1 stays down: no carrier, so DAD cannot finish
    ns.run('ip -6 addr add fd00:20::5/64 dev ve0');
    expect(ns.run('ip -6 addr show dev ve0')).toContain('tentative');
    const run = await runCli(['preflight', '--bind', '[fd00:20::5]:8080', '--json']);
    expect(run.status).toBe(1);
    const check = parseReport(run.stdout).checks[0];
    expect(check?.target).toBe('[fd00:20::5]:8080');
    expect(check?.diagnosis?.cause).toBe('address-tentative');
    const human = await runCli(['preflight', '--bind', '[fd00:20::5]:8080']);
    expect(human.stdout).toContain('address-tentative');
    expect(human.stdout).toContain('ve0');
  });

  netnsIt(
    'an address on a link without carrier passes with a warning that nothing reaches it, and --wait on a dadfailed address gives up at once',
    async (ns) => {
      ns.run('ip link add ve0 type veth peer name ve1');
      ns.run('ip link set ve0 up'); // ve1 stays down: ve0 has no carrier
      ns.run('ip addr add 10.21.0.5/24 dev ve0');
      const run = await runCli(['preflight', '--bind', '10.21.0.5:8080', '--json']);
      expect(run.status).toBe(0);
      const check = parseReport(run.stdout).checks[0];
      expect(check?.ok).toBe(true);
      expect(check?.warnings).toEqual([
        '10.21.0.5 is on ve0, which has no carrier: the bind works, but nothing reaches the address until the link is up with carrier (ip link show ve0)',
      ]);

      const peer = vethToPeerOwning(ns, 'fd00:21::5/64', 've2', 've3');
      expect(peer).not.toBe('');
      ns.run('ip link set ve2 up');
      ns.run('ip -6 addr add fd00:21::5/64 dev ve2');
      const started = Date.now();
      const dad = await runCli(['preflight', '--bind', '[fd00:21::5]:8080', '--wait', '30']);
      expect(dad.status).toBe(1);
      expect(dad.stdout.trimEnd().split('\n').at(-1)).toBe(
        'preflight failed: bind [fd00:21::5]:8080 address-dad-failed',
      );
      expect(Date.now() - started).toBeLessThan(8_000);
    },
    20_000,
  );

  netnsIt(
    'a destination whose source-port pool is used up fails with the pool figures in the JSON',
    async (ns) => {
      const server = net.createServer((s) => s.on('error', () => {}));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const port = (server.address() as net.AddressInfo).port;
      ns.sysctl('net.ipv4.ip_local_port_range', '40000 40009');
      const clients: net.Socket[] = [];
      onTestFinished(() => {
        for (const c of clients) c.destroy();
        server.close();
      });
      for (let i = 0; i < 10; i++) {
        const c = net.connect(port, '127.0.0.1');
        await once(c, 'connect');
        clients.push(c);
      }
      const run = await runCli(['preflight', '--connect', `127.0.0.1:${port}`, '--json']);
      expect(run.status).toBe(1);
      const check = parseReport(run.stdout).checks[0];
      expect(check?.kind).toBe('connect');
      expect(check?.diagnosis?.cause).toBe('ephemeral-ports-exhausted');
      expect(JSON.stringify(check?.diagnosis?.evidence)).toMatch(/"poolSize":10\b/);
      expect(JSON.stringify(check?.diagnosis?.evidence)).toMatch(/"inUse":10\b/);
      const human = await runCli(['preflight', '--connect', `127.0.0.1:${port}`]);
      expect(human.stdout).toContain('ephemeral-ports-exhausted');
      expect(human.stdout).toContain('ip_local_port_range');
    },
  );

  netnsIt('a port held by another process fails as port-in-use and names its pid', async () => {
    const holder = spawn(
      process.execPath,
      [
        '-e',
        "require('net').createServer().listen(0,'127.0.0.1',function(){console.log(this.address().port)})",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    onTestFinished(() => void holder.kill());
    const [chunk] = (await once(holder.stdout, 'data')) as [Buffer];
    const port = Number(chunk.toString().trim());
    const run = await runCli(['preflight', '--bind', `127.0.0.1:${port}`]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('port-in-use');
    expect(run.stdout).toContain(String(holder.pid));
    const json = await runCli(['preflight', '--bind', `127.0.0.1:${port}`, '--json']);
    expect(JSON.stringify(parseReport(json.stdout).checks[0]?.diagnosis?.evidence)).toContain(
      `"pid":${holder.pid}`,
    );
  });

  netnsIt('a destination with no route fails as no-route', async () => {
    const run = await runCli(['preflight', '--connect', '10.99.0.1:80', '--json']);
    expect(run.status).toBe(1);
    expect(parseReport(run.stdout).checks[0]?.diagnosis?.cause).toBe('no-route');
    const human = await runCli(['preflight', '--connect', '10.99.0.1:80']);
    expect(human.stdout).toMatch(/✖ connect\s+10\.99\.0\.1:80/);
    expect(human.stdout).toContain('no-route');
  });

  netnsIt('--config reads bind and connect targets; every one is reported, in order', async (ns) => {
    subnetWithoutVip(ns);
    const dir = tempDir('safebind-preflight-');
    const file = join(dir, 'preflight.json');
    writeFileSync(
      file,
      JSON.stringify({ bind: ['10.20.0.1:0', '10.20.0.50:8080'], connect: ['10.20.0.9:80'] }),
    );
    const run = await runCli(['preflight', '--config', file, '--json']);
    expect(run.status).toBe(1);
    const report = parseReport(run.stdout);
    expect(report.checks.map((c) => [c.kind, c.target, c.ok])).toEqual([
      ['bind', '10.20.0.1:0', true],
      ['bind', '10.20.0.50:8080', false],
      ['connect', '10.20.0.9:80', true],
    ]);
  });

  netnsIt('colour only when asked: FORCE_COLOR colours, NO_COLOR wins, a pipe stays plain', async (ns) => {
    subnetWithoutVip(ns);
    const args = ['preflight', '--bind', '10.20.0.50:8080'];
    const forced = await runCli(args, { FORCE_COLOR: '1' });
    expect(forced.stdout).toMatch(ESCAPE);
    const noColour = await runCli(args, { FORCE_COLOR: '1', NO_COLOR: '1' });
    expect(noColour.stdout).not.toMatch(ESCAPE);
    expect((await runCli(args)).stdout).not.toMatch(ESCAPE);
    expect(plain(forced.stdout)).toBe(noColour.stdout);
  });

  for (const bad of ['nonsense', '999.1.1.1:80', '127.0.0.1:70000', '[::1:80']) {
    it(`refuses the target ${bad} with exit 2 and one line, no stack trace`, async () => {
      for (const flag of ['--bind', '--connect']) {
        const run = await runCli(['preflight', flag, bad]);
        expect(run.status).toBe(2);
        expect(run.stdout).toBe('');
        const lines = run.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^safebind: /);
        expect(run.stderr).not.toMatch(/\n\s+at /);
      }
    });
  }

  it('says why each bad target is bad', async () => {
    expect((await runCli(['preflight', '--bind', '999.1.1.1:80'])).stderr).toContain(
      '999 is greater than 255',
    );
    expect((await runCli(['preflight', '--bind', '127.0.0.1:70000'])).stderr).toContain(
      'out of range 0-65535',
    );
    expect((await runCli(['preflight', '--bind', '[::1:80'])).stderr).toContain('without a closing "]"');
    expect((await runCli(['preflight', '--bind', 'nonsense'])).stderr).toContain('has no port');
    expect((await runCli(['preflight', '--bind', 'db.internal:80'])).stderr).toContain('needs an IP address');
  });

  it('bad usage exits 2 with one line: no target, a bad --wait, an unreadable --config', async () => {
    const dir = tempDir('safebind-preflight-');
    writeFileSync(join(dir, 'broken.json'), '{ "bind": [');
    writeFileSync(join(dir, 'bad-target.json'), '{ "bind": ["10.0.0.1:99999"] }');
    writeFileSync(
      join(dir, 'bad-type.json'),
      '{ "bind": [{ "host": "127.0.0.1", "port": 0, "freebind": "yes" }] }',
    );
    for (const args of [
      [],
      ['--bind', '127.0.0.1:0', '--wait', 'soon'],
      ['--config', join(dir, 'missing.json')],
      ['--config', join(dir, 'broken.json')],
      ['--config', join(dir, 'bad-target.json')],
      ['--config', join(dir, 'bad-type.json')],
      ['--bind', '127.0.0.1:0', '--no-such-flag'],
    ]) {
      const run = await runCli(['preflight', ...args]);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('--help lists every flag, with examples and the exit statuses', async () => {
    const run = await runCli(['preflight', '--help']);
    expect(run.status).toBe(0);
    for (const flag of [
      '--bind',
      '--connect',
      '--udp',
      '--freebind',
      '--wait',
      '--probe',
      '--config',
      '--json',
    ]) {
      expect(run.stdout).toContain(flag);
    }
    expect(run.stdout).toContain('Examples:');
    expect(run.stdout).toContain('ExecStartPre=');
    expect(run.stdout).toMatch(/Exit status: 0 .* 1 .* 2 /s);
  });
});
