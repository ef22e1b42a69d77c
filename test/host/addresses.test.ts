// readAddresses() reports what `ip -j addr` reports: names, indexes, prefixes, scope ids and the
// IPv6 flags bind() depends on, tentative above all.
import { describe, expect } from 'vitest';
import { loadBinding } from '../../lib/binding.js';
import { readAddresses } from '../../lib/host/index.js';
import type { Address } from '../../lib/types.js';
import { netnsIt, type Netns } from '../helpers/netns.js';
import { eachReader } from '../helpers/readers.js';

interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
  label?: string;
  secondary?: boolean;
  tentative?: boolean;
  dadfailed?: boolean;
  deprecated?: boolean;
  dynamic?: boolean;
  nodad?: boolean;
}
interface IpLink {
  ifindex: number;
  ifname: string;
  addr_info: IpAddrInfo[];
}

function keyOf(a: { ifindex: number; address: string; prefixLength: number }): string {
  return `${a.ifindex} ${a.address}/${a.prefixLength}`;
}

function expected(ns: Netns): Map<string, { link: IpLink; info: IpAddrInfo }> {
  const links = JSON.parse(ns.run('ip -j addr show')) as IpLink[];
  const out = new Map<string, { link: IpLink; info: IpAddrInfo }>();
  for (const link of links) {
    for (const info of link.addr_info) {
      out.set(keyOf({ ifindex: link.ifindex, address: info.local, prefixLength: info.prefixlen }), {
        link,
        info,
      });
    }
  }
  return out;
}

function build(ns: Netns): void {
  // Two veth pairs: a/b both up (carrier), c up with its peer d down (no carrier: tentative stays).
  ns.run('ip link add sba type veth peer name sbb');
  ns.sysctl('net.ipv6.conf.sba.accept_dad', '0');
  ns.sysctl('net.ipv6.conf.sbb.accept_dad', '0');
  ns.run('ip link set sba up');
  ns.run('ip link set sbb up');
  ns.run('ip addr add 10.77.0.1/24 dev sba');
  ns.run('ip addr add 10.77.0.2/24 dev sba label sba:vip');
  ns.run('ip addr add fd00:77::1/64 dev sba');
  ns.run('ip link add sbc type veth peer name sbd');
  ns.run('ip link set sbc up');
  ns.run('ip addr add fd00:78::1/64 dev sbc');
  ns.run('ip addr add 10.78.0.1/16 dev sbc');
}

eachReader('readAddresses', (kind) => {
  netnsIt(
    'matches ip -j addr: names, indexes, prefixes, scope ids, secondary and tentative flags',
    async (ns) => {
      build(ns);
      // Link-local addresses on the carrier pair appear a moment after up; wait until ip lists them.
      for (let i = 0; i < 100 && !/fe80::/.test(ns.run('ip -6 addr show dev sbb')); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      let before = '';
      let got: Address[] = [];
      let want = new Map<string, { link: IpLink; info: IpAddrInfo }>();
      // Read between two identical `ip` snapshots, so nothing changed underneath the comparison.
      for (let attempt = 0; attempt < 10; attempt++) {
        before = ns.run('ip -j addr show');
        const r = readAddresses();
        if (!r.ok) throw new Error(r.error.message);
        got = r.value;
        if (ns.run('ip -j addr show') === before) break;
      }
      want = expected(ns);
      expect(got.length).toBe(want.size);
      for (const a of got) {
        const w = want.get(keyOf(a));
        expect(w, `unexpected ${keyOf(a)}`).toBeDefined();
        if (!w) continue;
        expect(a.interface).toBe(w.link.ifname);
        expect(a.family).toBe(w.info.family === 'inet6' ? 6 : 4);
        expect(a.flags.includes('tentative')).toBe(w.info.tentative === true);
        expect(a.flags.includes('dadfailed')).toBe(w.info.dadfailed === true);
        if (kind === 'no-addon' && a.family === 4) {
          // /proc and Node show no IPv4 address flags: said to be unread, never false.
          expect(a.unknown).toContain('address flags');
        } else {
          expect(a.flags.includes('secondary')).toBe(w.info.secondary === true);
          expect(a.flags.includes('permanent')).toBe(w.info.dynamic !== true);
        }
        expect(a.scopeId).toBe(w.info.family === 'inet6' && w.info.scope === 'link' ? a.ifindex : undefined);
      }
      const byAddress = new Map(got.map((a) => [a.address, a]));
      expect(byAddress.get('fd00:78::1')?.flags).toContain('tentative');
      expect(byAddress.get('fd00:77::1')?.flags).not.toContain('tentative');
      if (kind === 'addon') expect(byAddress.get('10.77.0.2')?.flags).toContain('secondary');
      expect(byAddress.get('10.78.0.1')?.prefixLength).toBe(16);
      expect(byAddress.get('127.0.0.1')?.flags).toEqual(expect.arrayContaining(['up', 'loopback']));
      const linkLocal = got.find((a) => a.interface === 'sbb' && a.address.startsWith('fe80:'));
      expect(linkLocal?.scopeId).toBe(linkLocal?.ifindex);
    },
  );

  netnsIt('an IPv4 address on a link that is down is listed (it still binds), its link down', (ns) => {
    ns.run('ip link add sbe type veth peer name sbf');
    ns.run('ip addr add 10.79.0.1/24 dev sbe');
    const r = readAddresses();
    if (!r.ok) throw new Error(r.error.message);
    const a = r.value.find((x) => x.address === '10.79.0.1');
    expect(a).toBeDefined();
    expect(a?.flags).not.toContain('up');
    expect(a?.flags).not.toContain('running');
    if (kind === 'addon') {
      expect(a).toMatchObject({ interface: 'sbe', prefixLength: 24 });
    } else {
      // The local table lists it; no connected route names its link while the link is down.
      expect(a?.unknown).toEqual(expect.arrayContaining(['interface', 'prefixLength', 'up']));
      ns.run('ip link set sbe up');
      const up = readAddresses();
      if (!up.ok) throw new Error(up.error.message);
      // Up without carrier (its peer is down): the connected route names it; running is false.
      expect(up.value.find((x) => x.address === '10.79.0.1')).toMatchObject({
        interface: 'sbe',
        prefixLength: 24,
        flags: ['up'],
      });
    }
  });
});

describe('the addon reader', () => {
  netnsIt('the binding reports the IPv4 label where it differs from the interface name', (ns) => {
    build(ns);
    const load = loadBinding();
    if (!load.ok) throw new Error(load.reason);
    const raw = load.binding.addresses();
    if (typeof raw === 'number') throw new Error(`addresses() ${raw}`);
    expect(raw.find((a) => a.address === '10.77.0.2')?.label).toBe('sba:vip');
    expect(raw.find((a) => a.address === '10.77.0.1')?.label).toBeUndefined();
    expect(raw.find((a) => a.address === '10.77.0.1')?.validLifetime).toBe(0xffffffff);
  });
});
