// The rehearsal runs its own entry (dist/bench/rehearse-entry.js), not the CLI: rehearseChurn() from
// the library spawns it, and it keeps the safety rules of the hand-off (a plan is checked before
// the namespace is made; sysctls are written only in a namespace the child made and verified).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { rehearseChurn } from '../../lib/bench/index.js';
import { netnsIt } from '../helpers/netns.js';
import { ensureBuilt, root } from './cli.js';

beforeAll(ensureBuilt, 120_000);

const entry = join(root, 'dist', 'bench', 'rehearse-entry.js');
const portRange = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim();

function runEntry(plan: string | undefined) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (plan === undefined) delete env.SAFEBIND_CHURN_REHEARSAL;
  else env.SAFEBIND_CHURN_REHEARSAL = plan;
  return spawnSync(process.execPath, [entry], { cwd: root, encoding: 'utf8', env, timeout: 60_000 });
}

describe("the rehearsal's own entry", () => {
  netnsIt('a forged plan is refused by the entry before anything is written', (ns) => {
    ns.sysctl('net.ipv4.ip_local_port_range', '20000 50000');
    const r = runEntry(JSON.stringify({ options: { pool: 30 }, pool: 30, parentNetns: 1 }));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/rehearsal refused: .*unknown keys: parentNetns/);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false });
    expect(portRange()).toMatch(/^20000\s+50000$/);
  });

  netnsIt('without a plan the entry refuses and writes nothing', (ns) => {
    ns.sysctl('net.ipv4.ip_local_port_range', '20000 50000');
    const r = runEntry(undefined);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/rehearsal refused: .*no SAFEBIND_CHURN_REHEARSAL plan/);
    expect(portRange()).toMatch(/^20000\s+50000$/);
  });

  netnsIt(
    "rehearseChurn() from the library runs the entry to exhaustion; the caller's range stays",
    async (ns) => {
      ns.sysctl('net.ipv4.ip_local_port_range', '20000 50000');
      const r = await rehearseChurn({ pool: 30, mode: 'native' });
      expect(r.ok && r.value.rehearsal?.exhaustedAt).toBe(31);
      expect(portRange()).toMatch(/^20000\s+50000$/);
    },
    60_000,
  );

  netnsIt('an entry that is not built is named in the refusal', async () => {
    const r = await rehearseChurn({ pool: 30, entry: join(root, 'dist', 'nope', 'entry.js') });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.message).toMatch(/rehearsal entry .* is not built/);
  });
});
