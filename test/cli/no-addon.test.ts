// `safebind doctor` and `preflight` with the addon turned off (SAFEBIND_ADDON=none, as where it cannot
// load), end to end through the built bin in a namespace whose state the test made: the report says
// once what it could not read, shows what it could not tell as '?', never as a value, and an option
// only the addon sets fails the check saying so.
import { beforeAll, describe, expect } from 'vitest';
import { netnsIt } from '../helpers/netns.js';
import { buildBin, plain, runCli } from './cli.js';

beforeAll(() => buildBin(), 180_000);

const NONE = { SAFEBIND_ADDON: 'none', NO_COLOR: '1' };

describe('the CLI without the addon', () => {
  netnsIt(
    'doctor reads the host from /proc, says once what it could not, and shows unknowns as ?',
    async (ns) => {
      ns.run('ip link add v0 type veth peer name v1');
      ns.run('ip addr add 10.7.0.9/24 dev v1'); // v1 stays down: no connected route names it
      ns.run('ip link set v0 up');
      ns.run('ip addr add 10.8.0.1/24 dev v0'); // up, no carrier (its peer is down)

      const run = await runCli(['doctor'], NONE);
      expect(run.status).toBe(0);
      const out = plain(run.stdout);
      expect(out.match(/running without the native addon: .* not read/g)).toHaveLength(1);
      expect(out).toMatch(/^\s+\?\s+10\.7\.0\.9\/\?\s+link down or without carrier/m);
      expect(out).toMatch(/^\s+v0\s+10\.8\.0\.1\/24\s+no carrier/m);

      const json = await runCli(['doctor', '--json'], NONE);
      const report = JSON.parse(json.stdout) as {
        notRead?: Record<string, string>;
        addresses: Array<{ address: string; interface: string; unknown?: string[] }>;
      };
      expect(report.notRead?.['addon']).toMatch(/^SAFEBIND_ADDON=none: /);
      expect(report.notRead?.['address 10.7.0.9']).toContain('no connected route');
      expect(report.addresses.find((a) => a.address === '10.7.0.9')?.unknown).toContain('interface');
      expect(report.addresses.find((a) => a.address === '10.8.0.1')).toMatchObject({ interface: 'v0' });
    },
  );

  netnsIt('preflight binds with Node sockets; --freebind fails the check as needing the addon', async () => {
    const ok = await runCli(['preflight', '--bind', '127.0.0.1:0', '--json'], NONE);
    expect(ok.status).toBe(0);
    const free = await runCli(['preflight', '--bind', '127.0.0.1:0', '--freebind'], NONE);
    expect(free.status).toBe(1);
    expect(plain(free.stdout)).toContain(
      'freebind needs the native addon, which is not loaded (SAFEBIND_ADDON=none)',
    );
    expect(free.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
