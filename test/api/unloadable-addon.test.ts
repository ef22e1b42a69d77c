// With no loadable addon (a libc or CPU without a prebuild, and no compiler at install time), the
// api neither crashes nor leaks: what needs the addon resolves the typed `unsupported-platform`
// failure, and the host readers fall back to /proc and Node (lib/host/fallback).
import { describe, expect, it } from 'vitest';

// Set before anything loads the addon: this file runs in its own process (pool 'forks', isolate).
process.env.SAFEBIND_ADDON = '/nonexistent/safebind.node';
const api = await import('../../lib/index.js');

describe('an addon that cannot be loaded', () => {
  it('safeBind resolves unsupported-platform and names the path it tried', async () => {
    const r = await api.safeBind({ host: '127.0.0.1', port: 0 });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ syscall: 'safebind', code: 'ENOTSUP' });
    expect(r.diagnosis.cause).toBe('unsupported-platform');
    expect(r.diagnosis.details.join(' ')).toContain('/nonexistent/safebind.node');
  });

  it('safeConnect and explain resolve too, and invalid input is still invalid-address', async () => {
    const c = await api.safeConnect({ host: '127.0.0.1', port: 9 });
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.diagnosis.cause).toBe('unsupported-platform');
    const bad = await api.safeBind({ host: '1.2.3.4.5', port: 80 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.diagnosis.cause).toBe('invalid-address');
  });

  it('inspectHost reads the host without it, and names the loader failure and what was not read', async () => {
    const report = await api.inspectHost();
    // The no-addon reader (/proc, os.networkInterfaces()) still lists loopback.
    expect(report.addresses.map((a) => a.address)).toContain('127.0.0.1');
    expect(report.notRead?.['addon']).toContain('/nonexistent/safebind.node');
    expect(report.warnings.filter((w) => w.startsWith('running without the native addon:'))).toHaveLength(1);
  });
});
