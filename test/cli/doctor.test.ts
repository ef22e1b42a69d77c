// `safebind doctor` end to end through the built bin, each test in a namespace whose state it made:
// addresses in every state, sysctls, and a source-port pool filled toward one destination.
import { once } from 'node:events';
import net from 'node:net';
import { release } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { kernelListsBoundOnly } from '../../lib/host/index.js';
import { closeSocket, openSocket } from '../../lib/sys/index.js';
import { netnsIt, type Netns, vethToPeerOwning } from '../helpers/netns.js';
import { buildBin, ESCAPE, plain, runCli } from './cli.js';

beforeAll(() => buildBin(), 180_000);

// --- a small validator of the documented shapes (DESIGN.md, "Public API"), no dependency ---

type Check = (value: unknown, path: string, errors: string[]) => void;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const str: Check = (v, p, e) => void (typeof v !== 'string' && e.push(`${p}: not a string`));
const int: Check = (v, p, e) => void (!Number.isInteger(v) && e.push(`${p}: not an integer`));
const num: Check = (v, p, e) => void (typeof v !== 'number' && e.push(`${p}: not a number`));
const oneOf =
  (...allowed: unknown[]): Check =>
  (v, p, e) =>
    void (!allowed.includes(v) && e.push(`${p}: ${JSON.stringify(v)} not one of ${JSON.stringify(allowed)}`));
const arrayOf =
  (item: Check): Check =>
  (v, p, e) => {
    if (!Array.isArray(v)) e.push(`${p}: not an array`);
    else v.forEach((x, i) => item(x, `${p}[${i}]`, e));
  };
const recordOf =
  (item: Check): Check =>
  (v, p, e) => {
    if (!isObject(v)) e.push(`${p}: not an object`);
    else for (const [k, x] of Object.entries(v)) item(x, `${p}.${k}`, e);
  };
const tuple =
  (...items: Check[]): Check =>
  (v, p, e) => {
    if (!Array.isArray(v) || v.length !== items.length) e.push(`${p}: not a ${items.length}-tuple`);
    else items.forEach((item, i) => item(v[i], `${p}[${i}]`, e));
  };
/** An object with exactly these keys (optional ones end in '?'): an undocumented key is an error too. */
const shape =
  (fields: Record<string, Check>): Check =>
  (v, p, e) => {
    if (!isObject(v)) return void e.push(`${p}: not an object`);
    const known = new Set(Object.keys(fields).map((k) => k.replace(/\?$/, '')));
    for (const k of Object.keys(v)) if (!known.has(k)) e.push(`${p}.${k}: not in the documented shape`);
    for (const [key, check] of Object.entries(fields)) {
      const name = key.replace(/\?$/, '');
      if (!(name in v)) {
        if (!key.endsWith('?')) e.push(`${p}.${name}: missing`);
      } else check(v[name], `${p}.${name}`, e);
    }
  };

const numOrNull: Check = (v, p, e) =>
  void (v !== null && typeof v !== 'number' && e.push(`${p}: not a number or null`));
/** doctor's forecast of a destination (issue 16): a Forecast without its `usage`. */
const forecast = shape({
  blockingNow: int,
  steadyState: numOrNull,
  steadyUsage: numOrNull,
  exhaustionSeconds: numOrNull,
  ratePerSec: num,
  newConnections: int,
  sampledMs: num,
  notTimeWait: int,
  'unknown?': oneOf('no-new-connections', 'steady-state-fits', 'pool-not-read', 'hold-unknown'),
  timeWait: shape({
    lifetimeMs: int,
    holdMs: numOrNull,
    'reuse?': oneOf(true, false),
    rule: str,
    count: int,
    'longestTimerMs?': int,
    unreadable: recordOf(str),
  }),
});
const audits = shape({
  'reservedPorts?': shape({
    exposed: arrayOf(shape({ protocol: oneOf('tcp', 'udp'), port: int, address: str })),
    merged: str,
    commands: arrayOf(str),
    range: tuple(int, int),
    reserved: str,
  }),
  conntrack: (v, p, e) => void (!isObject(v) && e.push(`${p}: not an object`)),
  warnings: arrayOf(str),
  notRead: recordOf(str),
  namespaces: shape({
    readings: arrayOf((v, p, e) => void (!isObject(v) && e.push(`${p}: not an object`))),
    divergences: arrayOf((v, p, e) => void (!isObject(v) && e.push(`${p}: not an object`))),
    unreadable: recordOf(str),
  }),
});
const portUsage = shape({
  'forecast?': forecast,
  protocol: oneOf('tcp', 'udp'),
  destination: str,
  'localAddress?': str,
  range: tuple(int, int),
  reserved: int,
  poolSize: int,
  inUse: int,
  byState: recordOf(int),
  usage: num,
});
const hostReport = shape({
  kernel: str,
  addresses: arrayOf(
    shape({
      interface: str,
      ifindex: int,
      address: str,
      family: oneOf(4, 6),
      prefixLength: int,
      'scopeId?': int,
      flags: arrayOf(str),
    }),
  ),
  sysctls: recordOf(str),
  sockets: shape({ byState: recordOf(int), 'boundOnly?': int, topDestinations: arrayOf(portUsage) }),
  warnings: arrayOf(str),
  'audits?': audits,
});

function shapeErrors(check: Check, value: unknown): string[] {
  const errors: string[] = [];
  check(value, '$', errors);
  return errors;
}

interface Report {
  addresses: Array<{ interface: string; address: string; flags: string[] }>;
  sysctls: Record<string, string>;
  sockets: {
    byState: Record<string, number>;
    boundOnly?: number;
    topDestinations: Array<{
      destination: string;
      poolSize: number;
      inUse: number;
      usage: number;
      byState: Record<string, number>;
    }>;
  };
  warnings: string[];
}

/**
 * The state every doctor test reads: an IPv4 address on a link that is down, an IPv6 address that
 * stays tentative there (no carrier), ip_nonlocal_bind on, a 10-port range, and 9 connections held
 * open toward one loopback listener (90% of that destination's pool).
 */
async function troubledHost(ns: Netns): Promise<{ dest: string }> {
  ns.run('ip link add ve0 type veth peer name ve1');
  ns.run('ip addr add 10.9.0.1/24 dev ve0');
  ns.run('ip -6 addr add fd00:9::1/64 dev ve0');
  ns.sysctl('net.ipv4.ip_nonlocal_bind', '1');
  const server = net.createServer((s) => s.on('error', () => {}));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  // A socket only bound (before the range shrinks, so its port is not one of the pool's).
  const bound = openSocket({
    family: 4,
    protocol: 'tcp',
    bind: { family: 4, address: '127.0.0.1', port: 0 },
  });
  if (!bound.ok) throw new Error(bound.error.message);
  ns.sysctl('net.ipv4.ip_local_port_range', '40000 40009');
  const port = (server.address() as net.AddressInfo).port;
  const clients: net.Socket[] = [];
  for (let i = 0; i < 9; i++) {
    const c = net.connect(port, '127.0.0.1');
    await once(c, 'connect');
    clients.push(c);
  }
  onTestFinished(() => {
    for (const c of clients) c.destroy();
    closeSocket(bound.value);
    server.close();
  });
  return { dest: `127.0.0.1:${port}` };
}

describe('safebind doctor', () => {
  netnsIt('--json prints one HostReport of the documented shape with the state that was made', async (ns) => {
    const { dest } = await troubledHost(ns);
    const run = await runCli(['doctor', '--json', '--dest', dest]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report: unknown = JSON.parse(run.stdout);
    expect(shapeErrors(hostReport, report)).toEqual([]);
    const r = report as Report;

    const v4 = r.addresses.find((a) => a.address === '10.9.0.1');
    expect(v4?.interface).toBe('ve0');
    expect(v4?.flags).not.toContain('up');
    expect(r.addresses.find((a) => a.address === 'fd00:9::1')?.flags).toContain('tentative');
    expect(r.sysctls['net.ipv4.ip_nonlocal_bind']).toBe('1');
    expect(r.sysctls['net.ipv4.ip_local_port_range']).toBe('40000 40009');
    expect(r.sockets.byState.ESTABLISHED).toBeGreaterThanOrEqual(18); // 9 clients + 9 accepted
    expect(r.sockets.byState.LISTEN).toBe(1);
    // The socket only bound: on its own where the kernel lists it, never as a state.
    expect(r.sockets.byState.CLOSE).toBeUndefined();
    if (kernelListsBoundOnly(release())) expect(r.sockets.boundOnly).toBe(1);

    const pool = r.sockets.topDestinations.find((p) => p.destination === dest);
    expect(pool).toMatchObject({ poolSize: 10, inUse: 9, byState: { ESTABLISHED: 9 } });
    expect(pool?.usage).toBeCloseTo(0.9, 5);
    expect(r.warnings.some((w) => w.includes('ip_nonlocal_bind=1'))).toBe(true);
    expect(r.warnings.some((w) => w.includes(dest) && w.includes('90%'))).toBe(true);
    expect(r.warnings.some((w) => w.includes('fd00:9::1') && w.includes('tentative'))).toBe(true);
  });

  netnsIt(
    'prints addresses with their state, the port range, the sysctls, sockets and the pool bar',
    async (ns) => {
      const { dest } = await troubledHost(ns);
      const run = await runCli(['doctor', '--dest', dest]);
      expect(run.status).toBe(0);
      expect(run.stderr).toBe('');
      const out = run.stdout;
      expect(out).not.toMatch(ESCAPE); // piped: plain text
      expect(out).toMatch(/ve0\s+10\.9\.0\.1\/24\s+link down/);
      // ve0 was never brought up: its link is down, not without carrier.
      expect(out).toMatch(/ve0\s+fd00:9::1\/64\s+tentative: link is down/);
      expect(out).toMatch(/ip_local_port_range\s+40000-40009\s+\(10 ports\)/);
      expect(out).toMatch(/ipv4\.ip_nonlocal_bind\s+1 .*on/);
      expect(out).toMatch(/tcp_tw_reuse\s+2/);
      expect(out).toMatch(/ESTABLISHED \d+/);
      expect(out).toMatch(/LISTEN 1/);
      if (kernelListsBoundOnly(release()))
        expect(out).toMatch(
          /only bound \(bind\(\) without connect\(\) or listen\(\) yet\) 1: each holds its port/,
        );
      const poolLine = out.split('\n').find((l) => l.trimStart().startsWith(dest));
      expect(poolLine).toMatch(/█{18}░{2} 90%\s+9\/10 source ports/);
      // Warnings come first, before the sections they summarise.
      expect(out.indexOf('Warnings')).toBeLessThan(out.indexOf('Addresses'));
      expect(out.indexOf('ip_nonlocal_bind=1: any process')).toBeGreaterThan(out.indexOf('Warnings'));
    },
  );

  netnsIt(
    'names an IPv6 address that failed duplicate address detection, as the most severe warning',
    async (ns) => {
      vethToPeerOwning(ns, 'fd00:9::5/64', 've0', 've1');
      ns.sysctl('net.ipv6.conf.ve0.accept_dad', '1');
      ns.run('ip link set ve0 up');
      ns.run('ip -6 addr add fd00:9::5/64 dev ve0');
      for (let i = 0; i < 50 && !ns.run('ip -6 addr show dev ve0').includes('dadfailed'); i++)
        await sleep(100);
      expect(ns.run('ip -6 addr show dev ve0')).toContain('dadfailed');

      const run = await runCli(['doctor']);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/ve0\s+fd00:9::5\/64\s+dadfailed: another host on the link owns it/);
      const warnings = run.stdout.slice(run.stdout.indexOf('Warnings'), run.stdout.indexOf('Addresses'));
      const first = warnings.split('\n')[1] ?? '';
      expect(first).toContain('fd00:9::5/64 on ve0 failed duplicate address detection');
    },
  );

  netnsIt(
    'colours only when asked: FORCE_COLOR colours, NO_COLOR wins over it, a pipe stays plain',
    async () => {
      // /run/netns is the host's, not this namespace's: another test run adds and removes names (with
      // port ranges of their own) at any moment, and doctor audits them. Each doctor here sees an empty
      // one, a tmpfs in a mount namespace of its own, so the two outputs hold the same facts.
      const emptyRunNetns = [
        'unshare',
        '--mount',
        'sh',
        '-c',
        'mkdir -p /run/netns && mount -t tmpfs none /run/netns && exec "$@"',
        'sh',
      ];
      const forced = await runCli(['doctor'], { FORCE_COLOR: '1' }, 60_000, emptyRunNetns);
      expect(forced.stdout).toMatch(ESCAPE);
      const noColour = await runCli(['doctor'], { FORCE_COLOR: '1', NO_COLOR: '1' }, 60_000, emptyRunNetns);
      expect(noColour.stdout).not.toMatch(ESCAPE);
      const piped = await runCli(['doctor']);
      expect(piped.stdout).not.toMatch(ESCAPE);
      expect(plain(forced.stdout)).toBe(noColour.stdout);
    },
  );

  it('refuses a malformed --dest with exit 2 and one line, no stack trace', async () => {
    const run = await runCli(['doctor', '--dest', '10.0.0.1']);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('"10.0.0.1" has no port');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help shows the flags and examples', async () => {
    const run = await runCli(['doctor', '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('--dest <host:port>');
    expect(run.stdout).toContain('--json');
    expect(run.stdout).toContain('Examples:');
  });
});
