// The namespace helper really isolates: an address added in one test is gone in the next.
import { describe, expect } from 'vitest';
import { netnsIt } from '../helpers/netns.js';

describe('private network namespaces', () => {
  netnsIt('an address added inside the namespace is visible there', (ns) => {
    ns.run('ip addr add 10.99.0.1/24 dev lo');
    expect(ns.run('ip -o addr show dev lo')).toContain('10.99.0.1/24');
  });

  netnsIt('the next test starts from a fresh namespace without it', (ns) => {
    expect(ns.run('ip -o addr show dev lo')).not.toContain('10.99.0.1');
    expect(ns.run('ip -o link show')).not.toMatch(/eth0|veth/);
  });
});
