// Ten thousand rounds of every path, failing ones included, leave the process with exactly the
// descriptors it had: nothing in the addon or lib/sys keeps a socket (glibc's if_nametoindex and
// if_nameindex open one internally, too).
import { readdirSync } from 'node:fs';
import { describe, expect } from 'vitest';
import {
  bind,
  closeSocket,
  connect,
  listen,
  localAddress,
  newSocket,
  parseHost,
  parseTarget,
  pendingError,
  setDevice,
  setFreebind,
} from '../../lib/sys/index.js';
import { netnsIt } from '../helpers/netns.js';

const ROUNDS = 10_000;

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

function mustOpen(family: 4 | 6, protocol: 'tcp' | 'udp' = 'tcp'): number {
  const r = newSocket(family, protocol);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('descriptor count after 10,000 rounds', () => {
  netnsIt(
    'is unchanged across open+bind, bind EADDRNOTAVAIL, setDevice ENODEV, freebind and invalid input',
    () => {
      const before = openDescriptors();
      const outcomes = { bound: 0, notAvailable: 0, noDevice: 0, freebound: 0, invalid: 0 };
      for (let i = 0; i < ROUNDS; i++) {
        const ok = mustOpen(4, i % 2 === 0 ? 'tcp' : 'udp');
        if (bind(ok, { address: '127.0.0.1', port: 0, family: 4 }).ok) outcomes.bound++;
        closeSocket(ok);

        const missing = mustOpen(i % 2 === 0 ? 4 : 6);
        const r = bind(missing, {
          address: i % 2 === 0 ? '10.0.0.50' : 'fd00::50',
          port: 8080,
          family: i % 2 === 0 ? 4 : 6,
        });
        if (!r.ok && r.error.code === 'EADDRNOTAVAIL') outcomes.notAvailable++;
        closeSocket(missing);

        const device = mustOpen(6, 'udp');
        const d = setDevice(device, 'nosuch0');
        if (!d.ok && d.error.code === 'ENODEV') outcomes.noDevice++;
        closeSocket(device);

        const free = mustOpen(6);
        if (setFreebind(free, 6, true).ok && bind(free, { address: 'fd00::50', port: 0, family: 6 }).ok) {
          outcomes.freebound++;
        }
        closeSocket(free);

        // An unknown scope asks the kernel for the interface list: the failure path of parsing.
        if (!parseHost('fe80::1%nosuch0').ok && !parseTarget('999.1.1.1:80').ok) outcomes.invalid++;
      }
      expect(outcomes).toEqual({
        bound: ROUNDS,
        notAvailable: ROUNDS,
        noDevice: ROUNDS,
        freebound: ROUNDS,
        invalid: ROUNDS,
      });
      expect(openDescriptors()).toBe(before);
    },
    120_000,
  );

  netnsIt(
    'is unchanged across refused non-blocking connects and listen',
    () => {
      const probe = mustOpen(4);
      bind(probe, { address: '127.0.0.1', port: 0, family: 4 });
      const free = localAddress(probe);
      closeSocket(probe);
      if (!free.ok) throw new Error(free.error.message);

      const before = openDescriptors();
      let refused = 0;
      for (let i = 0; i < 2_000; i++) {
        const fd = mustOpen(4);
        const c = connect(fd, free.value);
        const err = c.ok ? pendingError(fd) : undefined;
        if (!c.ok || (err?.ok && err.value?.code === 'ECONNREFUSED')) refused++;
        closeSocket(fd);

        const l = mustOpen(6);
        bind(l, { address: '::1', port: 0, family: 6 });
        listen(l, 1);
        closeSocket(l);
      }
      expect(refused).toBe(2_000);
      expect(openDescriptors()).toBe(before);
    },
    60_000,
  );
});
