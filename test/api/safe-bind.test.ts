// safeBind() makes a bound socket with the options asked for, or a failure that always carries its
// diagnosis; bad values are `invalid-address` with no syscall, wrong types are TypeErrors.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { safeBind, type BindOptions } from '../../lib/api/safe-bind.js';
import { device, freebind, ipv6Only, localAddress, reuseAddress, reusePort } from '../../lib/sys/index.js';
import { netnsIt } from '../helpers/netns.js';
import { fdCount } from './helpers.js';

describe('safeBind', () => {
  netnsIt(
    'binds TCP with SO_REUSEADDR on by default, reports the chosen port, and close() twice is harmless',
    async () => {
      const before = fdCount();
      const result = await safeBind({ host: '127.0.0.1', port: 0 });
      if (!result.ok) throw new Error(result.diagnosis.summary);
      const s = result.socket;
      expect(s).toMatchObject({ host: '127.0.0.1', family: 4, protocol: 'tcp' });
      expect(s.port).toBeGreaterThan(0);
      expect(localAddress(s.fd)).toEqual({
        ok: true,
        value: { address: '127.0.0.1', port: s.port, family: 4 },
      });
      expect(reuseAddress(s.fd)).toEqual({ ok: true, value: true });
      expect(fdCount()).toBe(before + 1);
      s.close();
      s.close();
      expect(fdCount()).toBe(before);
    },
  );

  netnsIt('UDP leaves SO_REUSEADDR off unless asked', async () => {
    const plain = await safeBind({ host: '127.0.0.1', port: 0, protocol: 'udp' });
    const asked = await safeBind({ host: '127.0.0.1', port: 0, protocol: 'udp', reuseAddress: true });
    if (!plain.ok || !asked.ok) throw new Error('bind failed');
    expect(reuseAddress(plain.socket.fd)).toEqual({ ok: true, value: false });
    expect(reuseAddress(asked.socket.fd)).toEqual({ ok: true, value: true });
    plain.socket.close();
    asked.socket.close();
  });

  netnsIt('sets freebind, reusePort, ipv6Only and device, each visible on the socket', async (ns) => {
    ns.run('ip link add sbd0 type veth peer name sbd1');
    const result = await safeBind({
      host: 'fd00:60::9',
      port: 7000,
      freebind: true,
      reusePort: true,
      ipv6Only: true,
      device: 'sbd0',
    });
    if (!result.ok) throw new Error(result.diagnosis.summary);
    const fd = result.socket.fd;
    expect(result.socket.family).toBe(6);
    expect(freebind(fd, 6)).toEqual({ ok: true, value: true });
    expect(reusePort(fd)).toEqual({ ok: true, value: true });
    expect(ipv6Only(fd)).toEqual({ ok: true, value: true });
    expect(device(fd)).toEqual({ ok: true, value: 'sbd0' });
    // reusePort: a second socket shares the port.
    const twin = await safeBind({
      host: 'fd00:60::9',
      port: 7000,
      freebind: true,
      reusePort: true,
      device: 'sbd0',
    });
    expect(twin.ok).toBe(true);
    if (twin.ok) twin.socket.close();
    result.socket.close();
  });

  netnsIt('a scoped link-local address binds with its interface and keeps the scope in host', async (ns) => {
    ns.run('ip link add sbl0 type veth peer name sbl1');
    ns.run('ip addr add fe80::51/64 dev sbl0 nodad');
    const result = await safeBind({ host: 'fe80::51%sbl0', port: 0, freebind: true });
    if (!result.ok) throw new Error(result.diagnosis.summary);
    expect(result.socket.host).toBe('fe80::51%sbl0');
    result.socket.close();
  });

  netnsIt('an address on no interface fails with address-not-local and nothing left open', async () => {
    const before = fdCount();
    const result = await safeBind({ host: '10.70.0.1', port: 8080 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({
      syscall: 'bind',
      code: 'EADDRNOTAVAIL',
      address: '10.70.0.1',
      port: 8080,
    });
    expect(result.diagnosis.cause).toBe('address-not-local');
    expect(result.diagnosis.summary.length).toBeGreaterThan(0);
    expect(fdCount()).toBe(before);
  });

  netnsIt('a port held by a listener fails with port-in-use naming the holder', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(18080, '127.0.0.1', resolve));
    const result = await safeBind({ host: '127.0.0.1', port: 18080 });
    server.close();
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('EADDRINUSE');
      expect(result.diagnosis.cause).toBe('port-in-use');
    }
  });

  netnsIt(
    'a device that does not exist fails at setsockopt with a diagnosis, and closes the socket',
    async () => {
      const before = fdCount();
      const result = await safeBind({ host: '127.0.0.1', port: 0, device: 'nosuch0' });
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error).toMatchObject({ syscall: 'setsockopt', code: 'ENODEV' });
        expect(result.diagnosis.details.join(' ')).toContain('nosuch0');
        // The one line says it, naming the interfaces there are (this namespace has lo alone).
        expect(result.diagnosis.summary).toBe(
          'No interface named nosuch0 (SO_BINDTODEVICE); this host has lo',
        );
        expect(result.diagnosis.remediation[0]?.commands).toEqual(['ip -br link']);
      }
      expect(fdCount()).toBe(before);
    },
  );

  describe('bad values from configuration are invalid-address, with no syscall made', () => {
    const cases: Array<[string, BindOptions]> = [
      ['a word', { host: 'bogus', port: 80 }],
      ['five octets', { host: '1.2.3.4.5', port: 80 }],
      ['port 70000', { host: '127.0.0.1', port: 70000 }],
      ['a negative port', { host: '127.0.0.1', port: -1 }],
      ['a fractional port', { host: '127.0.0.1', port: 80.5 }],
      ['a host name', { host: 'localhost', port: 80 }],
      ['an empty host', { host: '', port: 80 }],
      ['an unknown scope', { host: 'fe80::1%nosuch0', port: 80 }],
      ['an impossible device name', { host: '127.0.0.1', port: 80, device: 'a/b' }],
    ];
    for (const [what, opts] of cases) {
      netnsIt(what, async () => {
        const before = fdCount();
        const result = await safeBind(opts);
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.diagnosis.cause).toBe('invalid-address');
        expect(result.diagnosis.code).toBe('');
        expect(result.error.syscall).toBe('safebind');
        expect(result.diagnosis.summary).toMatch(/^Not a usable address or port/);
        expect(fdCount()).toBe(before);
      });
    }
  });

  describe('wrong types throw a TypeError', () => {
    const cases: Array<[string, unknown]> = [
      ['host: 42', { host: 42, port: 80 }],
      ['port: "80"', { host: '127.0.0.1', port: '80' }],
      ['no options', undefined],
      ['protocol: "sctp"', { host: '127.0.0.1', port: 80, protocol: 'sctp' }],
      ['freebind: "yes"', { host: '127.0.0.1', port: 80, freebind: 'yes' }],
      ['waitForAddress: -1', { host: '127.0.0.1', port: 80, waitForAddress: -1 }],
      ['signal: {}', { host: '127.0.0.1', port: 80, signal: {} }],
    ];
    for (const [what, opts] of cases) {
      it(what, async () => {
        await expect(safeBind(opts as BindOptions)).rejects.toThrow(TypeError);
      });
    }
  });
});
