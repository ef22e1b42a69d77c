// The decision: errno + failure + snapshot → one Cause, following docs/kernel-facts.md. Only which cause;
// what to say about it is the cause's own module (causes/).
import type { Cause, Remediation } from '../types.js';
import { isLinkLocalV6, isUnspecified } from '../model/index.js';
import { localPort, nonlocalBindOn, type Context } from './context.js';
import { ownerOnTheLink } from './causes/address-on-other-host.js';
import { ipv6Unavailable } from './ipv6.js';
import { isNameFailure } from './lookup.js';
import { poolLooksExhausted, poolNotFullReasons } from './source-pool.js';
import { listing } from './text.js';

/** What the decision found: the cause, and for `unknown` what it learnt on the way. */
export interface Verdict {
  cause: Cause;
  /** For `unknown`: what was learnt on the way, phrased as facts. */
  reasons?: string[];
  remediation?: Remediation[];
  /** For `unknown`: the one line, when the decision knows what happened though no cause names it. */
  summary?: string;
}

function unknown(reasons: string[] = [], remediation: Remediation[] = [], summary?: string): Verdict {
  return { cause: 'unknown', reasons, remediation, ...(summary !== undefined ? { summary } : {}) };
}

/** bind EADDRNOTAVAIL, for a bind of its own or for the source-address step of a connect. */
function decideAddress(ctx: Context): Verdict {
  const ep = ctx.local;
  const asSource = ctx.failure.operation === 'connect';
  const notLocalCause: Cause = asSource ? 'source-not-local' : 'address-not-local';
  if (ep?.lookup === undefined) {
    return unknown([
      ep === undefined
        ? 'The local address of the failed bind is not known, so it could not be looked up.'
        : `'${ep.host}' is not an IP address, so it could not be looked up among this host's addresses.`,
    ]);
  }
  const present = ep.present;
  if (ctx.host.rebind?.ok === true) {
    // A probe that binds an absent address only proves ip_nonlocal_bind is on now, not that it appeared.
    if (present.length === 0 && ctx.addressesKnown && nonlocalBindOn(ctx)) return { cause: notLocalCause };
    return { cause: 'address-appeared' };
  }
  if (present.length === 0) {
    if (ep.ip?.family === 6 && !ep.mapped && ipv6Unavailable(ctx) !== undefined)
      return { cause: 'family-unavailable' };
    // Another host on the link answers for it: attaching it here would duplicate a live address.
    if (!asSource && ownerOnTheLink(ctx) !== undefined) return { cause: 'address-on-other-host' };
    return { cause: notLocalCause };
  }
  if (ep.lookup.family === 6) {
    if (present.some((entry) => entry.flags.includes('dadfailed'))) return { cause: 'address-dad-failed' };
    if (present.some((entry) => entry.flags.includes('tentative'))) return { cause: 'address-tentative' };
  }
  if (ctx.host.rebind === undefined) return { cause: 'address-appeared' };

  const entry = present[0];
  const reasons = [
    `${ep.lookupText} is on ${listing(present.map((candidate) => candidate.interface))} and not tentative, yet a probe bind made after the failure failed too (${ctx.host.rebind.code}).`,
  ];
  if (entry !== undefined && entry.family === 4 && !entry.flags.includes('up')) {
    reasons.push(
      `${entry.interface} is down, but IPv4 addresses bind whatever the link state: the link is not the cause.`,
    );
  }
  if (ctx.failure.options.device !== undefined) {
    reasons.push(
      `The socket is bound to device ${ctx.failure.options.device}: an IPv6 address must be on that device, and an IPv4 one in its VRF.`,
    );
  }
  reasons.push('The snapshot may come from another network namespace than the failing socket.');
  return unknown(reasons, [
    {
      title: 'Compare the network namespace of the service with the one read',
      commands: ['readlink /proc/self/ns/net'],
    },
  ]);
}

function decideBind(ctx: Context): Verdict {
  const ep = ctx.local;
  const port = localPort(ctx);
  switch (ctx.code) {
    case 'EADDRNOTAVAIL':
      return decideAddress(ctx);
    case 'EINVAL': {
      const zoned =
        ep?.zone !== undefined || ep?.scopeId !== undefined || ctx.failure.options.device !== undefined;
      if (ep?.ip !== undefined && isLinkLocalV6(ep.ip) && !zoned) return { cause: 'scope-id-required' };
      if (ep?.mapped === true && ctx.failure.options.ipv6Only !== false)
        return { cause: 'family-unavailable' };
      return unknown([
        'bind EINVAL also means the socket is already bound, or the address does not fit its family.',
      ]);
    }
    case 'EADDRINUSE':
      // Without the port the error was for, neither a holder nor an exhausted range can be told.
      if (port === undefined)
        return unknown(
          [
            'The error carries no address and port (no .address, .port or .cause that has them), so the port in use and its holder cannot be looked up, nor can a bind(…, 0) that found the range full be told from a bind of a port already taken.',
            'Explain the error the socket call itself raised: Node sets .address and .port on listen and bind errors, and safeBind() and safeListen() keep them.',
          ],
          [],
          `${ctx.error?.syscall || 'bind'} EADDRINUSE, without the address and port it was for: nothing to look up`,
        );
      return port === 0 ? { cause: 'bind-ports-exhausted' } : { cause: 'port-in-use' };
    case 'EACCES': {
      const read = ctx.sysctls?.ipUnprivilegedPortStart;
      // Unread, the limit is unknown: EACCES at bind is then taken as the kernel's word for it.
      const start = read ?? 65536;
      const capable = ctx.host.privileges?.netBindService === true;
      if (port !== undefined && port > 0 && port < start && !capable) return { cause: 'port-privileged' };
      return unknown(
        [
          port !== undefined && port >= start
            ? `Port ${port} is not privileged here (net.ipv4.ip_unprivileged_port_start = ${start}).`
            : 'This process has CAP_NET_BIND_SERVICE.',
          'So the refusal came from elsewhere: an LSM (SELinux, AppArmor), a seccomp filter or a cgroup BPF program.',
        ],
        [
          {
            title: 'Look for the denial in the audit log',
            commands: ['journalctl -k --since "-10 min" | grep -i denied', 'ausearch -m avc -ts recent'],
          },
        ],
      );
    }
    default:
      return unknown();
  }
}

function decideConnect(ctx: Context): Verdict {
  const tcp = ctx.failure.protocol === 'tcp';
  if ((tcp && ctx.code === 'EADDRNOTAVAIL') || (!tcp && ctx.code === 'EAGAIN')) {
    // Toward an IPv6 destination with IPv6 off (a happy-eyeballs try of ::1 in a container with
    // disable_ipv6): no source address of that family exists, so there is no pool to run out of.
    if (tcp && ctx.remote?.family === 6 && ctx.local === undefined && ipv6Unavailable(ctx) !== undefined)
      return { cause: 'family-unavailable' };
    if (ctx.remote?.ip !== undefined && isUnspecified(ctx.remote.ip)) {
      return unknown([
        `The destination ${ctx.remote.host} is the unspecified address, which cannot be connected to.`,
      ]);
    }
    return poolLooksExhausted(ctx)
      ? { cause: 'ephemeral-ports-exhausted' }
      : unknown(poolNotFullReasons(ctx));
  }
  switch (ctx.code) {
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      // An IPv6 destination with IPv6 off: no route because no IPv6 at all, and a route added by
      // hand would not help.
      if (ctx.remote?.family === 6 && ipv6Unavailable(ctx) !== undefined)
        return { cause: 'family-unavailable' };
      return { cause: 'no-route' };
    case 'EADDRINUSE': {
      // An explicit source port whose 4-tuple toward this destination is already taken.
      const port = ctx.local?.port;
      if (port !== undefined && port > 0) return { cause: 'port-in-use' };
      // A source port chosen by bind(ip, 0) with SO_REUSEADDR (Node's net.connect({ localAddress }))
      // may be one already connected to this destination: connect then fails with EADDRINUSE, and
      // it keeps failing once every port of the pool is.
      return poolLooksExhausted(ctx)
        ? { cause: 'ephemeral-ports-exhausted' }
        : unknown(poolNotFullReasons(ctx));
    }
    case 'ECONNREFUSED':
      return { cause: 'connection-refused' };
    case 'ETIMEDOUT':
      return unknown([
        'The destination did not answer: a firewall that drops, a host that is down, or a wrong address.',
      ]);
    default:
      return unknown();
  }
}

/** The one cause of the failure, from the errno, the step that failed and the snapshot. */
export function decide(ctx: Context): Verdict {
  if (ctx.error === null) {
    if (ctx.failure.invalid !== undefined) return { cause: 'invalid-address' };
    if (ctx.host.platform !== 'linux') return { cause: 'unsupported-platform' };
    return unknown();
  }
  if (ctx.host.platform !== 'linux') return { cause: 'unsupported-platform' };
  // No syscall was made because the addon could not be loaded (a libc or CPU without a prebuild,
  // and no compiler at install time): the platform cannot run safebind either.
  if (ctx.error.syscall === 'safebind' && ctx.code === 'ENOTSUP') return { cause: 'unsupported-platform' };
  if (ctx.code === 'EAFNOSUPPORT') return { cause: 'family-unavailable' };
  if (isNameFailure(ctx.error)) return { cause: 'name-not-resolved' };
  switch (ctx.step) {
    case 'bind':
      return decideBind(ctx);
    case 'connect':
      return decideConnect(ctx);
    case 'other':
      if (ctx.error.syscall === 'setsockopt' && ctx.code === 'ENODEV') {
        const names = [...new Set(ctx.addresses.map((entry) => entry.interface))];
        const device = ctx.failure.options.device;
        const has = names.length > 0 ? `; this host has ${listing(names)}` : '';
        return unknown(
          [`SO_BINDTODEVICE named an interface that does not exist (${device ?? 'device'})${has}.`],
          [{ title: 'Name an interface of this host in the device option', commands: ['ip -br link'] }],
          `No interface named ${device ?? 'as the device option says'} (SO_BINDTODEVICE)${has}`,
        );
      }
      return unknown();
  }
}
