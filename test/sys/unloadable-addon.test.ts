// When the addon cannot be loaded, every lib/sys call returns the ENOTSUP failure with the loader's
// reason (the api layer's `unsupported-platform`), and parsing still works without it.
import { describe, expect, it } from 'vitest';
import { parseIp } from '../../lib/model/index.js';

// Set before anything loads the addon: this file runs in its own process (pool 'forks', isolate).
process.env.SAFEBIND_ADDON = '/nonexistent/safebind.node';
const sys = await import('../../lib/sys/index.js');

describe('an addon that cannot be loaded', () => {
  it('turns every call into a typed ENOTSUP failure that names the path tried', () => {
    const results = [
      sys.newSocket(4, 'tcp'),
      sys.bind(3, { address: '127.0.0.1', port: 80, family: 4 }),
      sys.setFreebind(3, 6, true),
      sys.reuseAddress(3),
      sys.connect(3, { address: '::1', port: 80, family: 6 }),
      sys.closeSocket(3),
      sys.interfaceIndex('lo'),
    ];
    for (const r of results) {
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error).toMatchObject({ syscall: 'safebind', code: 'ENOTSUP', errno: 95 });
      expect(r.error.message).toBe(
        'safebind ENOTSUP: SAFEBIND_ADDON=/nonexistent/safebind.node is not a loadable .node addon: not found',
      );
      expect(sys.isUnsupported(r.error)).toBe(true);
    }
  });

  it('still parses, keeping a named scope it cannot resolve', () => {
    expect(sys.parseHost('fe80::1%eth0')).toEqual({
      ok: true,
      value: { address: 'fe80::1', family: 6, interface: 'eth0', linkLocal: true, ip: parseIp('fe80::1') },
    });
    expect(sys.parseTarget('[fd00::1]:443').ok).toBe(true);
  });

  it('still throws TypeError for programmer errors, before looking for the addon', () => {
    expect(() => sys.newSocket(5 as 4, 'tcp')).toThrow(TypeError);
  });
});
