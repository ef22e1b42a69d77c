// routeGet({ device }) asks the kernel for the route out of that interface (RTA_OIF), as
// `ip route get … oif DEV` does, instead of ignoring the name once it has been resolved.
import { describe, expect } from 'vitest';
import { loadBinding } from '../../lib/binding.js';
import { netnsIt } from '../helpers/netns.js';

describe('routeGet with a device', () => {
  netnsIt('a destination with no route is unreachable, yet reachable out of the named device', (ns) => {
    const load = loadBinding();
    if (!load.ok) throw new Error(load.reason);
    const b = load.binding;
    ns.run('ip link add sbrt0 type veth peer name sbrt1');
    ns.run('ip link set sbrt0 up');
    ns.run('ip link set sbrt1 up');
    const c = b.constants;
    // No default route in a fresh namespace: the FIB has nothing toward 198.51.100.7.
    expect(b.routeGet({ family: c.AF_INET, dst: '198.51.100.7' })).toBe(-101);
    // With an output interface the kernel treats the destination as on-link there.
    const viaDevice = b.routeGet({ family: c.AF_INET, dst: '198.51.100.7', device: 'sbrt0' });
    expect(typeof viaDevice === 'number' ? viaDevice : viaDevice.oifName).toBe('sbrt0');
    const index = b.ifNameToIndex('sbrt0');
    const viaOif = b.routeGet({ family: c.AF_INET, dst: '198.51.100.7', oif: index });
    expect(typeof viaOif === 'number' ? viaOif : viaOif.oif).toBe(index);
  });
});
