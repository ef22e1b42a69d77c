// findContainingSubnet: the prefix math that names the interface an absent address belongs to.
import { describe, expect, it } from 'vitest';
import { findContainingSubnet } from '../../lib/model/index.js';
import { addr, standardAddresses } from '../diagnose/fixtures.js';

describe('findContainingSubnet', () => {
  it("finds eth0's /24 for an IPv4 address in it", () => {
    const match = findContainingSubnet('10.0.0.50', standardAddresses());
    expect(match).toMatchObject({
      interface: 'eth0',
      network: '10.0.0.0',
      prefixLength: 24,
      cidr: '10.0.0.0/24',
    });
    expect(match?.address.address).toBe('10.0.0.10');
  });

  it('finds no subnet for an address outside every prefix', () => {
    expect(findContainingSubnet('203.0.113.7', standardAddresses())).toBeUndefined();
  });

  it('prefers the longest prefix', () => {
    const addresses = [addr('eth0', '10.0.0.10', 8), addr('eth1', '10.1.2.3', 16)];
    expect(findContainingSubnet('10.1.200.1', addresses)?.interface).toBe('eth1');
    expect(findContainingSubnet('10.2.0.1', addresses)?.interface).toBe('eth0');
  });

  it('handles prefixes that do not end on a byte boundary', () => {
    const addresses = [addr('eth0', '10.0.0.130', 25)];
    expect(findContainingSubnet('10.0.0.200', addresses)?.cidr).toBe('10.0.0.128/25');
    expect(findContainingSubnet('10.0.0.100', addresses)).toBeUndefined();
  });

  it("finds eth0's IPv6 /64 and prints the network compressed", () => {
    const match = findContainingSubnet('fd00:0:0:0::50', standardAddresses());
    expect(match).toMatchObject({ interface: 'eth0', cidr: 'fd00::/64' });
  });

  it('looks an IPv4-mapped IPv6 address up as its IPv4 address', () => {
    expect(findContainingSubnet('::ffff:192.168.1.77', standardAddresses())?.cidr).toBe('192.168.1.0/24');
  });

  it('picks the link named by the zone among several fe80::/64', () => {
    const addresses = [addr('eth0', 'fe80::1', 64), addr('eth1', 'fe80::2', 64)];
    expect(findContainingSubnet('fe80::99%eth1', addresses)?.interface).toBe('eth1');
    expect(findContainingSubnet('fe80::99%eth0', addresses)?.interface).toBe('eth0');
  });

  it('ignores /0 and input that is not an address', () => {
    expect(findContainingSubnet('10.0.0.1', [addr('tun0', '10.9.9.9', 0)])).toBeUndefined();
    expect(findContainingSubnet('db.internal', standardAddresses())).toBeUndefined();
    expect(findContainingSubnet('10.0.0.256', standardAddresses())).toBeUndefined();
  });
});
