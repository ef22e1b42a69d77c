// `--mode node`: what a Node client really pays — net.connect, then destroy (resetAndDestroy with
// --linger0) — with the same concurrency, limits and figures as the native loop. Options Node does
// not offer (IP_BIND_ADDRESS_NO_PORT, IP_LOCAL_PORT_RANGE) go through a descriptor lib/sys
// openSocket() prepared, handed to net.Socket({ fd }).
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { constants as osConstants } from 'node:os';
import { openSocket } from '../sys/recipe.js';
import { releaseSocket } from '../sys/socket.js';
import type { Driver, DriverFailure, DriverOutcome, DriverPlan } from './driver.js';
import { newLatencyHistogram } from './histogram.js';

const ETIMEDOUT = osConstants.errno.ETIMEDOUT;

/** A connect in flight; `socket` is undefined while the slot is free. */
interface Slot {
  socket: net.Socket | undefined;
  t0: number;
  attempt: number;
  source: string | undefined;
  onConnect: (this: net.Socket) => void;
  onError: (this: net.Socket, e: NodeJS.ErrnoException) => void;
}

type Prepared = { ok: true; fd: number } | { ok: false; errno: number; syscall: string };

/** The one socket recipe: socket, the options Node lacks, bind; the descriptor closed on any failure. */
function prepareDescriptor(plan: DriverPlan, source: string | undefined): Prepared {
  const family = plan.target.family;
  const opened = openSocket({
    family,
    protocol: 'tcp',
    options: {
      localPortRange: plan.localPortRange,
      bindAddressNoPort: source !== undefined && plan.bindNoPort ? true : undefined,
    },
    bind: source === undefined ? undefined : { address: source, port: 0, family },
  });
  return opened.ok
    ? { ok: true, fd: opened.value }
    : { ok: false, errno: opened.error.errno, syscall: opened.error.syscall };
}

export function startNodeDriver(plan: DriverPlan): Driver {
  const viaDescriptor = plan.bindNoPort || plan.localPortRange !== undefined;
  const histogram = newLatencyHistogram();
  const errnos = new Map<number, number>();
  const start = performance.now();
  const deadline = plan.durationMs > 0 ? start + plan.durationMs : Infinity;
  let attempts = 0;
  let connects = 0;
  let errors = 0;
  let active = 0;
  let maxNs = 0;
  let cancelled = false;
  let finished = false;
  let firstFailure: DriverFailure | undefined;
  let resolveDone: (outcome: DriverOutcome) => void = () => {};
  const done = new Promise<DriverOutcome>((resolve) => {
    resolveDone = resolve;
  });

  const stopFilling = () =>
    cancelled ||
    (plan.count > 0 && attempts >= plan.count) ||
    performance.now() >= deadline ||
    (plan.stopOnError && errors > 0);

  const fail = (
    errno: number,
    syscall: string,
    attempt: number,
    local: { address: string; port: number },
  ) => {
    errors++;
    errnos.set(errno, (errnos.get(errno) ?? 0) + 1);
    if (!firstFailure) {
      firstFailure = { errno, syscall, attempt, atNs: (performance.now() - start) * 1e6, local };
    }
  };

  const finish = () => {
    if (finished) return;
    finished = true;
    if (sweep) clearInterval(sweep);
    resolveDone({
      attempts,
      connects,
      errors,
      elapsedNs: (performance.now() - start) * 1e6,
      cancelled,
      histogram,
      latencyMaxNs: maxNs,
      errnos,
      ...(firstFailure ? { firstFailure } : {}),
    });
  };

  const unspecified = plan.target.family === 6 ? '::' : '0.0.0.0';
  // libuv reads the scope of a link-local target from its '%zone'.
  const targetHost = plan.target.zone ? `${plan.target.address}%${plan.target.zone}` : plan.target.address;
  const connectOptions = { host: targetHost, port: plan.target.port, family: plan.target.family };

  // One slot per connect in flight, each with its handlers made once: the hot path allocates the
  // socket and nothing else (no closures, promises or timers per connect). A handler ignores a
  // socket that is no longer its slot's (an event after the attempt settled).
  const slots: Slot[] = [];
  const freeSlots: Slot[] = [];
  const settle = (slot: Slot) => {
    slot.socket = undefined;
    freeSlots.push(slot);
    active--;
    // After a failure Node emits the error on the next tick: relaunching from setImmediate keeps
    // a storm of instant failures from starving timers (samples, the deadline).
    if (errors > 0) setImmediate(launch);
    else launch();
  };
  const localOf = (slot: Slot) => ({ address: slot.source ?? unspecified, port: 0 });
  const newSlot = (): Slot => {
    const slot: Slot = { socket: undefined, t0: 0, attempt: 0, source: undefined, onConnect, onError };
    function onConnect(this: net.Socket) {
      if (this !== slot.socket) return;
      const ns = (performance.now() - slot.t0) * 1e6;
      histogram.recordValue(ns >= 1 ? Math.round(ns) : 1);
      if (ns > maxNs) maxNs = ns;
      connects++;
      if (plan.linger0) this.resetAndDestroy();
      else this.destroy();
      settle(slot);
    }
    function onError(this: net.Socket, e: NodeJS.ErrnoException) {
      if (this !== slot.socket) return;
      this.destroy();
      fail(Math.abs(e.errno ?? 0), e.syscall ?? 'connect', slot.attempt, localOf(slot));
      settle(slot);
    }
    slots.push(slot);
    return slot;
  };
  // Timeouts by one sweep over the slots rather than a timer per socket: a timer per connect costs
  // the loop ~10 %.
  const sweep =
    plan.timeoutMs > 0
      ? setInterval(
          () => {
            const now = performance.now();
            for (const slot of slots) {
              if (!slot.socket || now - slot.t0 < plan.timeoutMs) continue;
              slot.socket.destroy();
              fail(ETIMEDOUT, 'connect', slot.attempt, localOf(slot));
              settle(slot);
            }
          },
          Math.max(10, Math.min(250, plan.timeoutMs / 4)),
        )
      : undefined;

  const one = (attempt: number): boolean => {
    const source = plan.sources.length > 0 ? plan.sources[(attempt - 1) % plan.sources.length] : undefined;
    const t0 = performance.now();
    let socket: net.Socket;
    if (viaDescriptor) {
      const prepared = prepareDescriptor(plan, source);
      if (!prepared.ok) {
        fail(prepared.errno, prepared.syscall, attempt, { address: source ?? unspecified, port: 0 });
        return false;
      }
      releaseSocket(prepared.fd);
      socket = new net.Socket({ fd: prepared.fd });
      socket.connect(connectOptions);
    } else if (source !== undefined) {
      socket = net.connect({ ...connectOptions, localAddress: source });
    } else {
      socket = net.connect(connectOptions);
    }
    const slot = freeSlots.pop() ?? newSlot();
    slot.socket = socket;
    slot.t0 = t0;
    slot.attempt = attempt;
    slot.source = source;
    socket.on('connect', slot.onConnect);
    socket.on('error', slot.onError);
    return true;
  };

  const launch = () => {
    while (active < plan.concurrency && !stopFilling()) {
      const attempt = ++attempts;
      if (one(attempt)) {
        active++;
        continue;
      }
      // Failed before any I/O: yield before the next try, as after any other failure.
      setImmediate(launch);
      return;
    }
    if (active === 0) finish();
  };

  setImmediate(launch);
  return {
    progress: () => ({ attempts, connects, errors }),
    cancel() {
      cancelled = true;
      if (active === 0) finish();
    },
    done,
  };
}
