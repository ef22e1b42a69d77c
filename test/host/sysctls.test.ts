// readNetSysctls reads the values of the namespace it runs in.
import { describe, expect } from 'vitest';
import { readNetSysctls } from '../../lib/host/sysctls.js';
import { netnsIt } from '../helpers/netns.js';

describe('readNetSysctls', () => {
  netnsIt(
    'reads port range, reserved ports, tw_reuse, nonlocal bind and per-interface disable_ipv6 set in the namespace',
    (ns) => {
      ns.run('ip link add sbs0 type veth peer name sbs1');
      ns.sysctl('net.ipv4.ip_local_port_range', '41000 41999');
      ns.sysctl('net.ipv4.ip_local_reserved_ports', '41010-41019,41500');
      ns.sysctl('net.ipv4.tcp_tw_reuse', '0');
      ns.sysctl('net.ipv4.ip_nonlocal_bind', '1');
      ns.sysctl('net.ipv6.conf.sbs0.disable_ipv6', '1');
      ns.sysctl('net.ipv6.conf.sbs1.dad_transmits', '3');
      const s = readNetSysctls();
      expect(s.ipLocalPortRange).toEqual([41000, 41999]);
      expect(s.ipLocalReservedPorts).toEqual([
        [41010, 41019],
        [41500, 41500],
      ]);
      expect(s.tcpTwReuse).toBe(0);
      expect(s.ipNonlocalBind).toEqual({ v4: true, v6: false });
      expect(s.disableIpv6.absent).toBe(false);
      expect(s.disableIpv6.interfaces.sbs0).toBe(true);
      expect(s.disableIpv6.interfaces.sbs1).toBe(false);
      expect(s.dadTransmits.sbs1).toBe(3);
      expect(s.raw['net.ipv4.ip_local_port_range']).toBe('41000 41999');
      expect(s.unreadable).toEqual({});
    },
  );

  netnsIt('a fresh namespace shows the kernel defaults, not the values another namespace set', () => {
    const s = readNetSysctls();
    expect(s.ipLocalPortRange).toEqual([32768, 60999]);
    expect(s.ipLocalReservedPorts).toEqual([]);
    expect(s.tcpTwReuse).toBe(2);
    expect(s.ipNonlocalBind.v4).toBe(false);
  });
});
