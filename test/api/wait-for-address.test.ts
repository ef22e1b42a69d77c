// safeBind({ waitForAddress }) binds an address as soon as it becomes usable — a VIP attached late,
// an IPv6 address leaving DAD — and otherwise ends with a diagnosis of the host as it is then.
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { safeBind } from '../../lib/api/safe-bind.js';
import { netnsIt, vethToPeerOwning } from '../helpers/netns.js';
import { fdCount, sleep } from './helpers.js';

describe('waitForAddress', () => {
  netnsIt('a VIP attached 300 ms after safeBind starts waiting is bound once it appears', async (ns) => {
    const started = Date.now();
    let attachedAt = 0;
    const attach = delay(300).then(() => {
      ns.run('ip addr add 10.50.0.10/24 dev lo');
      attachedAt = Date.now();
    });
    const result = await safeBind({ host: '10.50.0.10', port: 8080, waitForAddress: 10_000 });
    const boundAt = Date.now();
    await attach;
    if (!result.ok) throw new Error(result.diagnosis.summary);
    expect(result.socket.host).toBe('10.50.0.10');
    expect(result.socket.port).toBe(8080);
    expect(attachedAt).toBeGreaterThan(0);
    expect(boundAt).toBeGreaterThanOrEqual(attachedAt);
    // Bound on the address's arrival, far from the 10 s limit (latency itself: bench/bind-wait.mjs).
    expect(boundAt - started).toBeLessThan(3_000);
    result.socket.close();
  });

  netnsIt(
    'an IPv6 address is waited for through DAD and bound when it leaves the tentative state',
    async (ns) => {
      // A veth pair whose peer was never up: no carrier since sbw0 came up, so DAD waits for the link.
      ns.run('ip link add sbw0 type veth peer name sbw1');
      ns.run('ip link set sbw0 up');
      ns.run('ip addr add fd00:50::1/64 dev sbw0');
      expect(ns.run('ip -6 addr show dev sbw0')).toMatch(/fd00:50::1\/64 scope global tentative/);
      const immediate = await safeBind({ host: 'fd00:50::1', port: 0 });
      expect(immediate.ok).toBe(false);
      if (!immediate.ok) expect(immediate.diagnosis.cause).toBe('address-tentative');

      const started = Date.now();
      const carrier = delay(200).then(() => ns.run('ip link set sbw1 up'));
      const result = await safeBind({ host: 'fd00:50::1', port: 0, waitForAddress: 15_000 });
      await carrier;
      if (!result.ok) throw new Error(result.diagnosis.summary);
      expect(result.socket.family).toBe(6);
      expect(ns.run('ip -6 addr show dev sbw0')).not.toMatch(/fd00:50::1\/64 scope global tentative/);
      expect(Date.now() - started).toBeLessThan(10_000);
      result.socket.close();
    },
  );

  netnsIt(
    'an address whose DAD fails during the wait gives up at once with address-dad-failed, not at the timeout',
    async (ns) => {
      // The peer namespace owns the address: DAD on sbw0 fails about 0.5-1 s after it is added.
      vethToPeerOwning(ns, 'fd00:52::1/64', 'sbw0', 'sbw1');
      ns.run('ip link set sbw0 up');
      ns.run('ip addr add fd00:52::1/64 dev sbw0');
      const started = Date.now();
      const result = await safeBind({ host: 'fd00:52::1', port: 0, waitForAddress: 20_000 });
      const took = Date.now() - started;
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.diagnosis.cause).toBe('address-dad-failed');
      expect(ns.run('ip -6 addr show dev sbw0')).toMatch(/fd00:52::1\/64 scope global dadfailed/);
      expect(took).toBeLessThan(5_000);

      // Already dadfailed: no wait at all.
      const again = Date.now();
      const second = await safeBind({ host: 'fd00:52::1', port: 0, waitForAddress: 20_000 });
      expect(second.ok).toBe(false);
      expect(Date.now() - again).toBeLessThan(1_000);
    },
    15_000,
  );

  netnsIt(
    'aborting the signal while waiting rejects with an AbortError and leaves nothing open',
    async () => {
      const before = fdCount();
      const controller = new AbortController();
      const pending = safeBind({
        host: '10.51.0.1',
        port: 80,
        waitForAddress: 30_000,
        signal: controller.signal,
      });
      await sleep(100);
      const reason = new Error('shutting down');
      controller.abort(reason);
      const error = await pending.then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string; cause?: unknown },
      );
      expect(error?.name).toBe('AbortError');
      expect(error?.code).toBe('ABORT_ERR');
      expect(error?.cause).toBe(reason);
      expect(fdCount()).toBe(before);
    },
  );

  netnsIt('an already aborted signal rejects before any socket is made', async () => {
    const signal = AbortSignal.abort();
    await expect(safeBind({ host: '127.0.0.1', port: 0, signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  netnsIt('on timeout the diagnosis describes the host at the end of the wait', async (ns) => {
    ns.run('ip link add sbt0 type veth peer name sbt1');
    ns.run('ip link set sbt0 up');
    const started = Date.now();
    // The subnet appears during the wait, the address itself never does.
    const later = delay(100).then(() => ns.run('ip addr add 10.52.0.1/24 dev sbt0'));
    const result = await safeBind({ host: '10.52.0.77', port: 8080, waitForAddress: 600 });
    await later;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(590);
    expect(elapsed).toBeLessThan(3_000);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('EADDRNOTAVAIL');
    expect(result.diagnosis.cause).toBe('address-not-local');
    // Evidence read at the end: the subnet that was attached during the wait is named.
    expect(JSON.stringify(result.diagnosis)).toContain('sbt0');
    // The wait already ran: the fix says how long, and offers a longer one, not the same again.
    const wait = result.diagnosis.remediation.find((r) => r.option?.startsWith('waitForAddress'));
    expect(wait?.title).toMatch(/^Wait longer for 10\.52\.0\.77: 0\.[6-9] s were waited already/);
    expect(wait?.option).toBe('waitForAddress: 30000');
    const unwaited = await safeBind({ host: '10.52.0.77', port: 8080 });
    if (unwaited.ok) throw new Error('bound');
    expect(unwaited.diagnosis.remediation.find((r) => r.option?.startsWith('waitForAddress'))?.title).toMatch(
      /^Wait for 10\.52\.0\.77 to become bindable/,
    );
  });

  netnsIt('an error that waiting cannot fix is returned at once, not after the timeout', async (ns) => {
    ns.run('ip addr add 10.53.0.1/24 dev lo');
    const first = await safeBind({ host: '10.53.0.1', port: 9000 });
    if (!first.ok) throw new Error(first.diagnosis.summary);
    const started = Date.now();
    const second = await safeBind({
      host: '10.53.0.1',
      port: 9000,
      reuseAddress: false,
      waitForAddress: 20_000,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.diagnosis.cause).toBe('port-in-use');
    first.socket.close();
  });
});
