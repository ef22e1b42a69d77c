// lookupRoute agrees with `ip -j route get`, and a destination with no route is ENETUNREACH.
import { expect } from 'vitest';
import { hostReader, NOT_READ_WITHOUT_ADDON } from '../../lib/host/reader.js';
import { eachReader } from '../helpers/readers.js';
import { netnsIt, type Netns } from '../helpers/netns.js';

interface IpRoute {
  type?: string;
  dst: string;
  dev?: string;
  gateway?: string;
  prefsrc?: string;
}

function ipRouteGet(ns: Netns, args: string): IpRoute {
  const [first] = JSON.parse(ns.run(`ip -j route get ${args}`)) as IpRoute[];
  if (!first) throw new Error('ip route get printed nothing');
  return first;
}

function setup(ns: Netns): void {
  ns.run('ip link add sbr0 type veth peer name sbr1');
  ns.run('ip link set sbr0 up');
  ns.run('ip link set sbr1 up');
  ns.run('ip addr add 10.88.0.1/24 dev sbr0');
  ns.run('ip route add 10.200.0.0/16 via 10.88.0.254');
}

const lookupRoute = (destination: string, opts?: { source?: string; device?: string }) =>
  hostReader().lookupRoute(destination, opts);

eachReader('lookupRoute', (kind) => {
  netnsIt('a veth subnet, a gateway route and a local address agree with ip -j route get', async (ns) => {
    setup(ns);
    // 10.88.0.255: the subnet's broadcast (a UDP connect there needs SO_BROADCAST: the fallback tries
    // again with it, rather than take EACCES for a prohibit route).
    for (const dst of ['10.88.0.7', '10.200.3.4', '10.88.0.1', '127.0.0.1', '10.88.0.255']) {
      const want = ipRouteGet(ns, dst);
      const got = await lookupRoute(dst);
      expect(got.ok, dst).toBe(true);
      if (!got.ok) continue;
      expect(got.type).toBe(want.type ?? 'unicast');
      expect(got.source).toBe(want.prefsrc);
      if (kind === 'no-addon') {
        // A connected UDP socket tells the source, not the interface or the gateway: said unread.
        expect(got.interface).toBeUndefined();
        expect(got.gateway).toBeUndefined();
        expect(hostReader().notRead).toContain('the interface and gateway of routes');
        expect(NOT_READ_WITHOUT_ADDON).toContain('the interface and gateway of routes');
        continue;
      }
      expect(got.interface).toBe(want.dev);
      expect(got.gateway).toBe(want.gateway);
      expect(got.ifindex).toBeGreaterThan(0);
    }
    if (kind === 'addon')
      expect(await lookupRoute('10.200.3.4')).toMatchObject({
        gateway: '10.88.0.254',
        interface: 'sbr0',
        source: '10.88.0.1',
      });
  });

  netnsIt('a destination with no route is ENETUNREACH, as data', async (ns) => {
    setup(ns);
    const r = await lookupRoute('192.0.2.10');
    expect(r).toMatchObject({ ok: false, code: 'ENETUNREACH', destination: '192.0.2.10' });
    expect(() => ns.run('ip route get 192.0.2.10')).toThrow(/unreachable/i);
    // A prohibit route stays EACCES (the fallback's second try with SO_BROADCAST is refused too).
    ns.run('ip route add prohibit 10.201.0.0/16');
    expect(await lookupRoute('10.201.0.9')).toMatchObject({ ok: false, code: 'EACCES' });
  });

  netnsIt('a source and a device narrow the lookup; an unknown device is ENODEV', async (ns) => {
    setup(ns);
    expect(await lookupRoute('not-an-ip')).toMatchObject({ ok: false, code: 'EINVAL' });
    // The connected socket bound to the source reports it; RTM_GETROUTE echoes no prefsrc then.
    expect(await lookupRoute('10.88.0.7', { source: '10.88.0.1' })).toMatchObject({
      ok: true,
      ...(kind === 'no-addon' ? { source: '10.88.0.1' } : {}),
    });
    if (kind === 'no-addon') {
      // A lookup out of one device needs SO_BINDTODEVICE, the addon's: ENOTSUP, not a guess.
      expect(await lookupRoute('10.88.0.7', { device: 'sbr0' })).toMatchObject({
        ok: false,
        code: 'ENOTSUP',
      });
      return;
    }
    expect(await lookupRoute('10.88.0.7', { source: '10.88.0.1', device: 'sbr0' })).toMatchObject({
      ok: true,
      interface: 'sbr0',
    });
    expect(await lookupRoute('10.88.0.7', { device: 'nosuch0' })).toMatchObject({
      ok: false,
      code: 'ENODEV',
    });
  });

  netnsIt('IPv6 toward loopback is a local route on lo', async () => {
    expect(await lookupRoute('[::1]')).toMatchObject({
      ok: true,
      type: 'local',
      ...(kind === 'addon' ? { interface: 'lo' } : { source: '::1' }),
    });
  });
});
