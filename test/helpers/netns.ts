// Runs a test body inside a private network namespace, so tests can add addresses, links and
// sysctls without touching the host. The test process (one fork per file, see vitest.config.ts)
// moves its main thread into a fresh namespace with unshare(CLONE_NEWNET); every child it spawns
// afterwards (ip, ss, sysctl, helper servers) starts in that namespace too.
//
// As root this needs nothing more. Otherwise run the suite as
// `unshare --user --map-root-user --net npm test`, which makes the process root of its own user
// namespace; when neither works the test is skipped and says why (under CI=true it fails instead).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { expect, it, onTestFinished, type TestContext } from 'vitest';
import { loadBinding } from '../../lib/binding.js';
import { unmet } from './prerequisite.js';

export interface Netns {
  /** Runs a command (argv as one string, split on spaces; use `sh()` for pipes) in this namespace. */
  run(command: string): string;
  /** Runs a shell command line in this namespace. */
  sh(command: string): string;
  /** Writes a sysctl of this namespace (`net.ipv4.ip_local_port_range`, "40000 40009"). */
  sysctl(name: string, value: string): void;
  /** Creates a second, named namespace (removed when the test ends) and returns its name. */
  peer(): string;
}

function enterFreshNetns(): { ok: true } | { ok: false; reason: string } {
  const load = loadBinding();
  if (!load.ok) return { ok: false, reason: load.reason };
  const rc = load.binding.unshareNet();
  if (rc < 0) {
    return {
      ok: false,
      reason:
        `unshare(CLONE_NEWNET) failed with errno ${-rc}: not root. ` +
        'Run the suite as `unshare --user --map-root-user --net npm test` to get a namespace of its own.',
    };
  }
  const lo = spawnSync('ip', ['link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (lo.status !== 0) return { ok: false, reason: `ip link set lo up failed: ${lo.stderr || lo.error}` };
  return { ok: true };
}

function run(command: string): string {
  const [file, ...args] = command.split(/\s+/).filter(Boolean);
  if (!file) throw new Error('empty command');
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function sh(command: string): string {
  return execFileSync('sh', ['-c', command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeNetns(): Netns {
  return {
    run,
    sh,
    sysctl(name, value) {
      execFileSync('sysctl', ['-q', '-w', `${name}=${value}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    },
    peer() {
      const name = `sbtest-${process.pid}-${randomBytes(3).toString('hex')}`;
      run(`ip netns add ${name}`);
      run(`ip -n ${name} link set lo up`);
      onTestFinished(() => {
        spawnSync('ip', ['netns', 'del', name]);
      });
      return name;
    },
  };
}

/**
 * Enters a fresh namespace for the current test, or skips the test with the reason printed (fails
 * it under CI).
 * Call it first thing in a test body.
 */
export function useNetns(ctx: TestContext): Netns {
  const entered = enterFreshNetns();
  if (!entered.ok) unmet(ctx, entered.reason);
  return makeNetns();
}

/** `it()` whose body runs in its own fresh network namespace. */
export function netnsIt(
  name: string,
  body: (ns: Netns, ctx: TestContext) => Promise<void> | void,
  timeout?: number,
) {
  return it(
    name,
    async (ctx) => {
      const ns = useNetns(ctx);
      await body(ns, ctx);
    },
    timeout,
  );
}

/**
 * Resolves once the kernel has the local route of `address` (table local). An IPv6 address added
 * with nodad is bindable as soon as `ip addr add` returns, but addrconf's workqueue inserts its local
 * route a moment later (up to 3.3–4.4 ms measured quiet, more under load, docs/kernel-facts.md); a
 * connect in between is lost or fails ENETUNREACH. IPv4 local routes are there when `ip` returns.
 */
export async function localRouteOf(address: string, timeoutMs = 5000): Promise<void> {
  const family = address.includes(':') ? '-6' : '-4';
  await expect
    .poll(() => run(`ip ${family} route show table local ${address}`).trim(), {
      timeout: timeoutMs,
      interval: 2,
      message: `the local route of ${address}`,
    })
    .not.toBe('');
}

/**
 * A veth pair `local`–`remote` whose far end sits in a second namespace, up, already holding
 * `address` (added with nodad): the same address added on `local` then fails duplicate address
 * detection. `local` is left down, so the caller sets its sysctls first. Returns the peer's name.
 */
export function vethToPeerOwning(ns: Netns, address: string, local: string, remote: string): string {
  const peer = ns.peer();
  ns.run(`ip link add ${local} type veth peer name ${remote}`);
  ns.run(`ip link set ${remote} netns ${peer}`);
  ns.run(`ip -n ${peer} addr add ${address} dev ${remote} nodad`);
  ns.run(`ip -n ${peer} link set ${remote} up`);
  return peer;
}
