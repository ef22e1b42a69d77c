// inspectHost() reports the namespace as `ip -j addr` and `ss` see it — addresses with their
// tentative/secondary flags and link state, sockets by state — and warns about a tentative address
// and about ip_nonlocal_bind=1.
import net from 'node:net';
import { release } from 'node:os';
import { expect, onTestFinished } from 'vitest';
import { kernelListsBoundOnly } from '../../lib/host/index.js';
import { inspectHost } from '../../lib/index.js';
import { closeSocket, openSocket } from '../../lib/sys/index.js';
import type { Address } from '../../lib/types.js';
import { netnsIt, type Netns, vethToPeerOwning } from '../helpers/netns.js';
import { eachReader } from '../helpers/readers.js';

/** Address flags `ip -j addr` prints as `"name": true`, which Address.flags names the same way. */
const IP_ADDRESS_FLAGS = [
  'secondary',
  'tentative',
  'dadfailed',
  'deprecated',
  'nodad',
  'optimistic',
  'home',
  'mngtmpaddr',
  'noprefixroute',
  'autojoin',
];

interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  addr_info?: Array<Record<string, unknown>>;
}

/**
 * The flags (as ip names them) an address's `unknown` says were not read: only the no-addon reader
 * sets it, and a flag it could not read is left out of both sides of the comparison, never taken
 * as false. The tests assert separately that it is said to be unread.
 */
function unreadFlags(unknown: readonly string[] | undefined): Set<string> {
  const out = new Set<string>();
  for (const u of unknown ?? []) {
    if (u === 'address flags') for (const f of IP_ADDRESS_FLAGS) out.add(f);
    else if (u === 'address flags above permanent')
      for (const f of ['mngtmpaddr', 'noprefixroute', 'autojoin']) out.add(f);
    else out.add(u);
  }
  return out;
}

/** One line per address, from `ip -j addr`: what inspectHost must report for it. */
function fromIp(ns: Netns, reported: Address[] = []): string[] {
  const unread = new Map(reported.map((a) => [a.address, unreadFlags(a.unknown)]));
  const links = JSON.parse(ns.run('ip -j addr show')) as IpLink[];
  return links
    .flatMap((link) =>
      (link.addr_info ?? []).map((info) => {
        const flags = IP_ADDRESS_FLAGS.filter((f) => info[f] === true);
        if (link.flags.includes('UP')) flags.push('up');
        if (link.flags.includes('LOWER_UP')) flags.push('lower-up');
        if (link.flags.includes('LOOPBACK')) flags.push('loopback');
        const family = info['family'] === 'inet6' ? 6 : 4;
        const skip = unread.get(String(info['local'])) ?? new Set<string>();
        const known = flags.filter((f) => !skip.has(f));
        return `${link.ifname}#${link.ifindex} ${family} ${String(info['local'])}/${String(info['prefixlen'])} ${known.sort().join(',')}`;
      }),
    )
    .sort();
}

/** The same line per address, from inspectHost's Address. */
function fromReport(addresses: Address[]): string[] {
  const compared = new Set([...IP_ADDRESS_FLAGS, 'up', 'lower-up', 'loopback']);
  return addresses
    .map(
      (a) =>
        `${a.interface}#${a.ifindex} ${a.family} ${a.address}/${a.prefixLength} ${a.flags
          .filter((f) => compared.has(f) && !unreadFlags(a.unknown).has(f))
          .sort()
          .join(',')}`,
    )
    .sort();
}

function veth(ns: Netns, name: string, peer: string, peerUp: boolean): void {
  ns.run(`ip link add ${name} type veth peer name ${peer}`);
  ns.run(`ip link set ${name} up`);
  if (peerUp) ns.run(`ip link set ${peer} up`);
}

eachReader('inspectHost() against ip and ss', (kind) => {
  netnsIt(
    'inspectHost addresses equal ip -j addr, tentative and secondary flags and link state included',
    async (ns) => {
      // v0: peer down, so no carrier; its IPv6 address stays tentative. w0: carrier, DAD running 30 s.
      veth(ns, 'v0', 'v1', false);
      veth(ns, 'w0', 'w1', true);
      ns.sysctl('net.ipv6.conf.w0.dad_transmits', '30');
      ns.run('ip addr add 10.9.0.1/24 dev v0');
      ns.run('ip addr add 10.9.0.2/24 dev v0');
      ns.run('ip addr add fd00:9::10/64 dev v0');
      ns.run('ip addr add fd00:8::10/64 dev w0');
      ns.run('ip addr add fd00:7::10/64 dev w1 nodad');

      const report = await inspectHost();
      const want = fromIp(ns, report.addresses);
      expect(fromReport(report.addresses)).toEqual(want);
      if (kind === 'no-addon') {
        // What /proc and Node cannot show is said to be unread, once, and on every address.
        expect(report.notRead?.['addon']).toContain('lower-up');
        expect(report.warnings.filter((w) => w.startsWith('running without the native addon'))).toHaveLength(
          1,
        );
        for (const a of report.addresses) expect(a.unknown).toContain('lower-up');
        expect(report.addresses.find((a) => a.address === '10.9.0.2')?.unknown).toContain('address flags');
      } else {
        expect(report.notRead?.['addon']).toBeUndefined();
        for (const a of report.addresses) expect(a.unknown).toBeUndefined();
      }
      // The comparison covers the cases that matter, not only loopback.
      expect(want.join('\n')).toContain('v0#');
      expect(report.addresses.find((a) => a.address === 'fd00:9::10')?.flags).toContain('tentative');
      expect(report.addresses.find((a) => a.address === 'fd00:8::10')?.flags).toContain('tentative');
      if (kind === 'addon')
        expect(report.addresses.find((a) => a.address === '10.9.0.2')?.flags).toContain('secondary');
      expect(report.addresses.find((a) => a.address === 'fd00:7::10')?.flags).toContain('nodad');
      expect(report.addresses.find((a) => a.address === '10.9.0.1')?.flags).not.toContain('running');
      expect(report.kernel).toContain(ns.run('uname -r').trim());
    },
  );

  netnsIt('inspectHost warns about a tentative address, naming it and its link', async (ns) => {
    veth(ns, 'v0', 'v1', false);
    veth(ns, 'w0', 'w1', true);
    ns.sysctl('net.ipv6.conf.w0.dad_transmits', '30');
    ns.run('ip addr add fd00:9::10/64 dev v0');
    ns.run('ip addr add fd00:8::10/64 dev w0');
    // A link set down has no carrier either, but the fix is to bring it up: said apart.
    ns.run('ip link add x0 type veth peer name x1');
    ns.run('ip addr add fd00:6::10/64 dev x0');

    const { warnings } = await inspectHost();
    expect(warnings).toContain(
      'fd00:6::10/64 on x0 is tentative and its link is down: binds fail until the link is brought up and DAD ends',
    );
    expect(warnings).toContain(
      'fd00:9::10/64 on v0 is tentative and the link has no carrier: binds fail until DAD ends, which waits for carrier unless the link had it since it was brought up',
    );
    expect(warnings).toContain(
      'fd00:8::10/64 on w0 is tentative (duplicate address detection running): binds fail until it ends',
    );
    expect(warnings.some((w) => w.includes('ip_nonlocal_bind'))).toBe(false);
  });

  netnsIt(
    'inspectHost reports an address that failed DAD as dadfailed, first among the warnings',
    async (ns) => {
      vethToPeerOwning(ns, 'fd00:9::30/64', 'v0', 'v1');
      ns.run('ip link set v0 up');
      ns.sysctl('net.ipv4.ip_nonlocal_bind', '1');
      ns.run('ip addr add fd00:9::30/64 dev v0');
      const end = Date.now() + 8000;
      while (!ns.run('ip -6 addr show dev v0').includes('dadfailed') && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
      }
      // v0's own link-local address runs its DAD too (about a second): wait for it to end, or it can
      // end between inspectHost's reading and ip's, and the two readings differ (CI saw it once).
      while (ns.run('ip -6 addr show dev v0 scope link').includes('tentative') && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
      }

      const report = await inspectHost();
      expect(fromReport(report.addresses)).toEqual(fromIp(ns, report.addresses));
      expect(report.addresses.find((a) => a.address === 'fd00:9::30')?.flags).toEqual(
        expect.arrayContaining(['dadfailed', 'tentative']),
      );
      expect(report.warnings[0]).toBe(
        'fd00:9::30/64 on v0 failed duplicate address detection: another host on the link owns it',
      );
    },
  );

  netnsIt('inspectHost warns when net.ipv4.ip_nonlocal_bind=1, and reads it into sysctls', async (ns) => {
    const before = await inspectHost();
    expect(before.warnings.some((w) => w.startsWith('net.ipv4.ip_nonlocal_bind=1'))).toBe(false);
    ns.sysctl('net.ipv4.ip_nonlocal_bind', '1');
    const after = await inspectHost();
    expect(after.sysctls['net.ipv4.ip_nonlocal_bind']).toBe('1');
    expect(after.warnings.some((w) => w.startsWith('net.ipv4.ip_nonlocal_bind=1'))).toBe(true);
  });

  netnsIt(
    'inspectHost counts TCP sockets by state as ss -Htan does and ranks the busiest destination',
    async (ns) => {
      const accepted: net.Socket[] = [];
      const server = net.createServer((s) => accepted.push(s));
      await new Promise<void>((ok) => server.listen(7400, '127.0.0.1', ok));
      const clients: net.Socket[] = [];
      for (let i = 0; i < 4; i++) {
        clients.push(
          await new Promise<net.Socket>((ok) => {
            const c = net.connect(7400, '127.0.0.1', () => ok(c));
          }),
        );
      }
      // Three sockets only bound (the kernel dumps them in state CLOSE): not a state ss -tan lists.
      const bound = [4, 4, 6].map((family) => {
        const fd = openSocket({
          family: family as 4 | 6,
          protocol: 'tcp',
          bind: { family: family as 4 | 6, address: family === 4 ? '127.0.0.1' : '::1', port: 0 },
        });
        if (!fd.ok) throw new Error(fd.error.message);
        return fd.value;
      });
      onTestFinished(() => {
        for (const s of [...clients, ...accepted]) s.destroy();
        for (const fd of bound) closeSocket(fd);
        server.close();
      });
      const ss: Record<string, number> = {};
      for (const line of ns.sh('ss -Htan').split('\n')) {
        const state = line.trim().split(/\s+/)[0];
        if (!state) continue;
        const name = state === 'ESTAB' ? 'ESTABLISHED' : state;
        ss[name] = (ss[name] ?? 0) + 1;
      }
      expect(ss).toEqual({ LISTEN: 1, ESTABLISHED: 8 });

      const report = await inspectHost();
      expect(report.sockets.byState).toEqual(ss);
      expect(report.sockets.topDestinations[0]).toMatchObject({ destination: '127.0.0.1:7400', inUse: 4 });
      // Counted on their own where the kernel lists them (6.5 and later, through sock_diag), else
      // said to be unread, never 0.
      if (kind === 'addon' && kernelListsBoundOnly(release())) {
        expect(report.sockets.boundOnly).toBe(3);
        expect(report.notRead?.['boundOnly']).toBeUndefined();
      } else {
        expect(report.sockets.boundOnly).toBeUndefined();
        expect(report.notRead?.['boundOnly']).toMatch(kind === 'addon' ? /6\.5 and later/ : /\/proc\/net/);
      }
    },
  );
});
