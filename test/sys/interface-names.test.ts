// Interface names and indexes come from the calling thread's own network namespace, which is what
// a `%eth0` scope and SO_BINDTODEVICE refer to (a /sys/class/net read would show the host's).
import { describe, expect } from 'vitest';
import { interfaceIndex, interfaceList, interfaceName } from '../../lib/sys/index.js';
import { netnsIt } from '../helpers/netns.js';

describe('interface names and indexes', () => {
  netnsIt('list, look up and reverse-look up the interfaces of this namespace', (ns) => {
    ns.run('ip link add sbif0 type veth peer name sbif1');
    const links = JSON.parse(ns.run('ip -j link show')) as Array<{ ifindex: number; ifname: string }>;
    const expected = links
      .map((l) => ({ index: l.ifindex, name: l.ifname }))
      .sort((a, b) => a.index - b.index);
    expect(interfaceList()).toEqual({ ok: true, value: expected });
    const sbif0 = expected.find((l) => l.name === 'sbif0');
    expect(interfaceIndex('sbif0')).toEqual({ ok: true, value: sbif0?.index });
    expect(interfaceName(sbif0?.index ?? -1)).toEqual({ ok: true, value: 'sbif0' });
  });

  netnsIt('a missing name is ENODEV and a missing index ENXIO, as data', () => {
    expect(interfaceIndex('eth0')).toEqual({
      ok: false,
      error: { syscall: 'if_nametoindex', errno: 19, code: 'ENODEV', message: 'if_nametoindex ENODEV eth0' },
    });
    expect(interfaceIndex('a-name-longer-than-ifnamsiz')).toMatchObject({
      ok: false,
      error: { code: 'ENODEV' },
    });
    expect(interfaceName(4242)).toEqual({
      ok: false,
      error: { syscall: 'if_indextoname', errno: 6, code: 'ENXIO', message: 'if_indextoname ENXIO 4242' },
    });
  });
});
