// countBoundOnly(): which kernels list the sockets only bound, and what is said where they do not.
import { describe, expect, it } from 'vitest';
import { countBoundOnly, kernelListsBoundOnly } from '../../lib/host/index.js';

describe('sockets only bound', () => {
  it('are listed by Linux 6.5 and later, as uname -r names releases', () => {
    for (const r of ['6.5.0', '6.18.0-rc1', '6.10.3-arch1-1', '7.0.0'])
      expect(kernelListsBoundOnly(r), r).toBe(true);
    for (const r of ['6.4.16', '6.1.0-18-amd64', '5.15.0-105-generic', '4.19.0', '', 'unknown'])
      expect(kernelListsBoundOnly(r), r).toBe(false);
  });

  it('are unknown, not 0, on a kernel that does not list them', () => {
    expect(countBoundOnly('6.1.0-18-amd64')).toEqual({
      ok: false,
      reason: 'Linux 6.1.0-18-amd64 does not list them (6.5 and later do)',
    });
  });
});
