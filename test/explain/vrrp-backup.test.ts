// address-on-other-host against real keepalived (issue 13, item 3): on a VRRP backup, whose VIP is
// live on the master on the same link, safebind must never advise `ip addr add VIP`. The master runs
// keepalived from Debian in a peer namespace joined to this one by a veth pair; this namespace is
// the backup (it has the link's subnet, not the VIP).
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, onTestFinished, type TestContext } from 'vitest';
import { explain, preflight, safeBind } from '../../lib/index.js';
import type { Diagnosis } from '../../lib/types.js';
import { netnsIt, type Netns } from '../helpers/netns.js';
import { unmet } from '../helpers/prerequisite.js';
import { tempDir } from '../helpers/temp-dir.js';
import { buildBin, runCli } from '../cli/cli.js';
import { commands, sleep } from './helpers.js';
import { eachReader } from '../helpers/readers.js';

const VIP = '10.31.0.50';

/** keepalived as VRRP MASTER for VIP on `iface` in namespace `peer`; stopped (SIGTERM, by pid) at the end. */
async function keepalivedMaster(ctx: TestContext, ns: Netns, peer: string, iface: string): Promise<void> {
  const which = spawnSync('sh', ['-c', 'command -v keepalived'], { encoding: 'utf8' });
  const binary = which.stdout.trim();
  if (which.status !== 0 || binary === '') unmet(ctx, 'keepalived is not installed (.ci/run installs it)');
  const dir = tempDir('safebind-keepalived-');
  const conf = join(dir, 'keepalived.conf');
  writeFileSync(
    conf,
    `global_defs {
  router_id master
  enable_script_security
}
vrrp_instance VI_1 {
  state MASTER
  interface ${iface}
  virtual_router_id 51
  priority 150
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
}
`,
  );
  // -n: no daemon, so the pid is keepalived's parent, which stops its VRRP child on SIGTERM.
  const child = spawn(
    'ip',
    ['netns', 'exec', peer, binary, '-n', '-l', '-P', '-f', conf, '-p', `${dir}/k.pid`, '-r', `${dir}/v.pid`],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  onTestFinished(async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
  });
  const end = Date.now() + 15_000;
  while (!ns.run(`ip -n ${peer} -4 addr show dev ${iface}`).includes(`${VIP}/24`)) {
    if (Date.now() > end) throw new Error('keepalived did not become MASTER within 15 s');
    await sleep(100);
  }
}

function neverAddsTheAddress(d: Diagnosis): void {
  expect(commands(d).filter((c) => c.includes('ip addr add'))).toEqual([]);
  expect(JSON.stringify(d.remediation)).not.toMatch(/ip addr add/);
}

eachReader('a bind on a VRRP backup whose VIP is live on the master', () => {
  netnsIt(
    'preflight --probe explains address-on-other-host, names the master link address, and never advises ip addr add',
    async (ns, ctx) => {
      buildBin();
      const peer = ns.peer();
      ns.run('ip link add v0 type veth peer name v1');
      ns.run(`ip link set v1 netns ${peer}`);
      ns.run('ip addr add 10.31.0.2/24 dev v0');
      ns.run('ip link set v0 up');
      ns.run(`ip -n ${peer} addr add 10.31.0.1/24 dev v1`);
      ns.run(`ip -n ${peer} link set v1 up`);
      await keepalivedMaster(ctx, ns, peer, 'v1');
      const masterMac = /link\/ether (\S+)/.exec(ns.run(`ip -n ${peer} link show v1`))?.[1];
      expect(masterMac).toMatch(/^[0-9a-f:]{17}$/);

      const report = await preflight({ bind: [`${VIP}:8080`], probe: true });
      expect(report.ok).toBe(false);
      const d = report.checks[0]?.diagnosis;
      if (d === undefined) throw new Error('no diagnosis');
      expect(d.cause).toBe('address-on-other-host');
      expect(d.evidence['owner']).toMatchObject({ address: VIP, interface: 'v0', lladdr: masterMac });
      expect(d.summary).toContain(`another host on v0 answers for it (${masterMac})`);
      neverAddsTheAddress(d);
      expect(d.remediation[0]?.option).toBe('waitForAddress: 30000');
      expect(commands(d)).toContain(`ip neigh show ${VIP} dev v0`);

      // The neighbour table now holds the master: a plain bind and explain() see it without probing.
      const bound = await safeBind({ host: VIP, port: 8080 });
      expect(bound.ok).toBe(false);
      if (!bound.ok) {
        expect(bound.diagnosis.cause).toBe('address-on-other-host');
        neverAddsTheAddress(bound.diagnosis);
        const again = await explain(bound.error);
        expect(again.cause).toBe('address-on-other-host');
      }

      const cli = await runCli(['preflight', '--bind', `${VIP}:8080`, '--probe'], { NO_COLOR: '1' });
      expect(cli.status).toBe(1);
      expect(cli.stdout).not.toContain('ip addr add');
      expect(cli.stdout.trimEnd().split('\n').at(-1)).toBe(
        `preflight failed: bind ${VIP}:8080 address-on-other-host`,
      );
    },
    40_000,
  );
});
