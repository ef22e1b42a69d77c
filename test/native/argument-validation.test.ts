// Wrong types and out-of-range numbers handed straight to the addon throw a TypeError (or come back as
// a negative errno) and never crash the process, wrap a port, or reach a descriptor they did not name.
// Each case runs in a child process, so a crash fails the test instead of killing the runner.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBinding } from '../../lib/binding.js';
import { netnsIt } from '../helpers/netns.js';

const addon = resolve(process.env.SAFEBIND_ADDON ?? 'build/Release/safebind.node');

/**
 * Runs `body` (JavaScript, with `b` the addon and `c` its constants) in a child and returns what each
 * `probe(name, fn)` saw: 'TypeError', a returned value, or another error's name.
 */
function probe(body: string): {
  status: number | null;
  signal: string | null;
  seen: Record<string, unknown>;
  stderr: string;
} {
  const script = `
    const b = require(${JSON.stringify(addon)});
    const c = b.constants;
    const seen = {};
    const probe = (name, fn) => {
      try { const v = fn(); seen[name] = typeof v === 'object' && v !== null ? 'object' : v; }
      catch (e) { seen[name] = e instanceof TypeError ? 'TypeError' : 'threw ' + (e && e.name); }
    };
    ${body}
    process.stdout.write(JSON.stringify(seen));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
  let seen: Record<string, unknown> = {};
  try {
    seen = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    // left empty: the assertions below then say what was missing
  }
  return { status: r.status, signal: r.signal, seen, stderr: r.stderr };
}

describe('argument validation at the addon boundary', () => {
  it('loads the addon under test', () => {
    expect(loadBinding().ok).toBe(true);
  });

  it('a port of -1, 70000, NaN or 1.5 is a TypeError, never a wrapped port bound for real', () => {
    const r = probe(`
      for (const port of [-1, 70000, NaN, 1.5, Infinity, '80']) {
        const fd = b.socket(c.AF_INET, c.SOCK_STREAM);
        probe('bind ' + String(port), () => b.bind(fd, { family: c.AF_INET, address: '127.0.0.1', port, scopeId: 0 }));
        const name = b.getsockname(fd);
        probe('bound ' + String(port), () => (typeof name === 'number' ? name : name.port));
        b.close(fd);
      }
      const fd = b.socket(c.AF_INET, c.SOCK_STREAM);
      probe('connect 65536', () => b.connect(fd, { family: c.AF_INET, address: '127.0.0.1', port: 65536, scopeId: 0 }));
      probe('scopeId -1', () => b.bind(fd, { family: c.AF_INET6, address: '::1', port: 0, scopeId: -1 }));
      probe('setLocalPortRange -1', () => b.setLocalPortRange(fd, -1, 70000));
      probe('churnListen port -1', () => b.churnListen({ family: c.AF_INET, address: '127.0.0.1', port: -1, scopeId: 0 }, 16));
      probe('socketCounts dst port 70000', () => b.socketCounts({ protocol: c.IPPROTO_TCP, family: c.AF_INET, states: 0, dst: { port: 70000 } }));
      probe('socketCounts states -1', () => b.socketCounts({ protocol: c.IPPROTO_TCP, family: c.AF_INET, states: -1 }));
      probe('routeGet oif -1', () => b.routeGet({ family: c.AF_INET, dst: '127.0.0.1', oif: -1 }));
      b.close(fd);`);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    for (const port of ['-1', '70000', 'NaN', '1.5', 'Infinity', '80']) {
      expect(r.seen[`bind ${port}`], port).toBe('TypeError');
      // getsockname of a socket never bound: port 0. A wrapped port would show 65535, 4464 or an ephemeral one.
      expect(r.seen[`bound ${port}`], port).toBe(0);
    }
    for (const name of [
      'connect 65536',
      'scopeId -1',
      'setLocalPortRange -1',
      'churnListen port -1',
      'socketCounts dst port 70000',
      'socketCounts states -1',
      'routeGet oif -1',
    ])
      expect(r.seen[name], name).toBe('TypeError');
  });

  it('a descriptor that is not an exact 32-bit integer is refused, not truncated onto another descriptor', () => {
    const r = probe(`
      const fd = b.socket(c.AF_INET, c.SOCK_STREAM);
      probe('close 2**32+fd', () => b.close(2 ** 32 + fd));
      probe('close fd+0.5', () => b.close(fd + 0.5));
      probe('still open', () => (typeof b.getsockname(fd) === 'object' ? 'open' : 'closed'));
      probe('close -1', () => b.close(-1));
      probe('close fd', () => b.close(fd));`);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.seen).toEqual({
      'close 2**32+fd': 'TypeError',
      'close fd+0.5': 'TypeError',
      'still open': 'open',
      'close -1': -9,
      'close fd': 0,
    });
  });

  it('wrong types for every export throw TypeError and the process lives on', () => {
    const r = probe(`
      const weird = [undefined, null, 'x', {}, [], () => 1, Symbol('s'), 10n, { get family() { throw new Error('getter'); } }];
      const exports = ['socket','close','setIntOption','getIntOption','setLinger','getLinger','setDevice','getDevice',
        'setLocalPortRange','getLocalPortRange','bind','listen','connect','socketError','getsockname','getpeername',
        'ifNameToIndex','ifIndexToName','socketCounts','socketList','socketIdentities','routeGet','watchAddresses','churnStart',
        'churnCancel','churnListen','churnListenerStats','churnListenerClose'];
      let calls = 0, nonTypeErrors = [];
      for (const name of exports) for (const w of weird) {
        calls++;
        try { const v = b[name](w, w, w, w); if (v && typeof v.close === 'function') v.close(); } catch (e) { if (!(e instanceof TypeError) && !(e && e.message === 'getter')) nonTypeErrors.push(name + ': ' + e); }
      }
      probe('calls', () => calls);
      probe('nonTypeErrors', () => nonTypeErrors.join('; '));`);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.seen.calls).toBe(28 * 9);
    expect(r.seen.nonTypeErrors).toBe('');
  });

  it('churnStart refuses a huge concurrency, negative counts and NaN durations with TypeError instead of aborting', () => {
    const r = probe(`
      const target = { family: c.AF_INET, address: '127.0.0.1', port: 9, scopeId: 0 };
      const start = (extra) => () => b.churnStart({ target, ...extra }, new ArrayBuffer(40), () => {});
      probe('concurrency 1e12', start({ concurrency: 1e12 }));
      probe('concurrency 0', start({ concurrency: 0 }));
      probe('count -1', start({ count: -1 }));
      probe('durationMs NaN', start({ durationMs: NaN }));
      probe('timeoutMs -5', start({ timeoutMs: -5 }));
      probe('portHi 70000', start({ portLo: 1, portHi: 70000 }));
      probe('target port -1', start({ target: { ...target, port: -1 } }));
      probe('sources[0] not an address', start({ sources: [7] }));
      probe('progress too small', () => b.churnStart({ target }, new ArrayBuffer(8), () => {}));`);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    for (const name of [
      'concurrency 1e12',
      'concurrency 0',
      'count -1',
      'durationMs NaN',
      'timeoutMs -5',
      'portHi 70000',
      'target port -1',
      'sources[0] not an address',
      'progress too small',
    ])
      expect(r.seen[name], name).toBe('TypeError');
  });

  netnsIt('a device name longer than an interface name can be is -ENODEV, not a prefix match', (ns) => {
    // The kernel keeps the first 15 bytes of a longer name: that would bind (or route) this link.
    const link = 'lo' + 'x'.repeat(13);
    ns.run(`ip link add ${link} type veth peer name sbpeer0`);
    ns.run(`ip link set ${link} up`);
    const r = probe(`
      const fd = b.socket(c.AF_INET, c.SOCK_STREAM);
      probe('setDevice', () => b.setDevice(fd, ${JSON.stringify(link)} + 'yyyy'));
      probe('routeGet', () => {
        const v = b.routeGet({ family: c.AF_INET, dst: '10.1.2.3', device: ${JSON.stringify(link)} + 'yyyy' });
        return typeof v === 'number' ? v : 'routed via ' + v.oifName;
      });
      b.close(fd);`);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.seen).toEqual({ setDevice: -19, routeGet: -19 });
  });
});
