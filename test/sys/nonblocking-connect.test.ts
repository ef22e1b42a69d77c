// A non-blocking connect reports in-progress as a state, and its outcome is read from SO_ERROR:
// 0 toward a listener, ECONNREFUSED toward a closed port.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect } from 'vitest';
import type { Family, Result } from '../../lib/types.js';
import {
  bind,
  closeSocket,
  connect,
  listen,
  localAddress,
  newSocket,
  pendingError,
  remoteAddress,
  type SockAddr,
} from '../../lib/sys/index.js';
import { netnsIt } from '../helpers/netns.js';

const open: number[] = [];
function value<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}
function socket(family: Family): number {
  const fd = value(newSocket(family, 'tcp'));
  open.push(fd);
  return fd;
}
afterEach(() => {
  for (const fd of open.splice(0)) closeSocket(fd);
});

const loopback = { 4: '127.0.0.1', 6: '::1' } as const;

/** A port with a listener on it (kept open until the test ends). */
function listener(family: Family): SockAddr {
  const fd = socket(family);
  value(bind(fd, { address: loopback[family], port: 0, family }));
  value(listen(fd));
  return value(localAddress(fd));
}

/** A port that nothing listens on: bound once to learn a free port, then closed. */
function closedPort(family: Family): SockAddr {
  const fd = value(newSocket(family, 'tcp'));
  value(bind(fd, { address: loopback[family], port: 0, family }));
  const addr = value(localAddress(fd));
  value(closeSocket(fd));
  return addr;
}

async function until<T>(probe: () => T | undefined, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(5);
  }
}

describe.each([4, 6] as const)('non-blocking connect over IPv%i loopback', (family) => {
  netnsIt('toward a listener is in progress or connected, then connected with SO_ERROR 0', async () => {
    const target = listener(family);
    const fd = socket(family);
    const state = value(connect(fd, target));
    expect(['in-progress', 'connected']).toContain(state);
    const peer = await until(() => {
      const r = remoteAddress(fd);
      return r.ok ? r.value : undefined;
    });
    expect(peer).toEqual(target);
    expect(pendingError(fd)).toEqual({ ok: true, value: null });
  });

  netnsIt('toward a closed port reports ECONNREFUSED through SO_ERROR', async () => {
    const target = closedPort(family);
    const fd = socket(family);
    const first = connect(fd, target);
    if (!first.ok) {
      // Some kernels refuse loopback at once; the error is the same either way.
      expect(first.error.code).toBe('ECONNREFUSED');
      return;
    }
    expect(first.value).toBe('in-progress');
    const error = await until(() => {
      const r = value(pendingError(fd, { address: target.address, port: target.port }));
      return r ?? undefined;
    });
    expect(error).toEqual({
      syscall: 'connect',
      errno: 111,
      code: 'ECONNREFUSED',
      message: `connect ECONNREFUSED ${target.address}:${target.port}`,
      address: target.address,
      port: target.port,
    });
    // Reading SO_ERROR clears it.
    expect(pendingError(fd)).toEqual({ ok: true, value: null });
  });
});
