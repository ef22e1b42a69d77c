// family-unavailable: IPv6 absent from the kernel or disabled (disable_ipv6), or an IPv4-mapped
// address asked of an IPv6-only socket.
import type { Diagnosis, Remediation } from '../../types.js';
import { isLoopback, isUnspecified } from '../../model/index.js';
import type { Context, Endpoint } from '../context.js';
import { ipv6Unavailable } from '../ipv6.js';
import { baseEvidence, failedLine, shownLocal } from '../local-address.js';
import { sysctlCommands } from '../remedies.js';
import { formatEndpoint } from '../text.js';

/**
 * The IPv4 counterpart of the address that failed, and nothing wider: `::1` is `127.0.0.1` and `::`
 * is `0.0.0.0`; for another address the service's own IPv4 address is the caller's to name. (A
 * loopback-only service told to bind 0.0.0.0 would answer on every interface.)
 */
function bindIpv4(ep: Endpoint | undefined, title = 'Bind an IPv4 address instead'): Remediation {
  const ip = ep?.ip;
  if (ip !== undefined && isLoopback(ip))
    return { title: `${title}: 127.0.0.1, loopback as ${ep?.host ?? '::1'} is`, option: `host: '127.0.0.1'` };
  if (ip !== undefined && isUnspecified(ip))
    return {
      title: `${title}: 0.0.0.0, every IPv4 address as :: is every address`,
      option: `host: '0.0.0.0'`,
    };
  return {
    title: `${title}: the IPv4 address the service should answer on`,
    option: `host: '<IPv4 address>'`,
  };
}
const ENABLE_IN_KERNEL =
  'Enable IPv6 in the kernel: remove ipv6.disable=1 from the kernel command line, then reboot';

export function familyUnavailable(ctx: Context): Diagnosis {
  const ep = ctx.local;
  const shown = ep !== undefined ? shownLocal(ep) : 'the address';
  const evidence: Record<string, unknown> = ep !== undefined ? baseEvidence(ctx, ep) : {};
  if (ctx.sysctls !== undefined) evidence['disableIpv6'] = ctx.sysctls.disableIpv6;

  if (ctx.code === 'EINVAL' && ep?.mapped === true) {
    const v6only = ctx.failure.options.ipv6Only === true;
    evidence['ipv6Only'] = ctx.failure.options.ipv6Only ?? 'unknown';
    return {
      cause: 'family-unavailable',
      code: ctx.code,
      summary: `Cannot bind ${shown}: ${ep.host} is the IPv4 address ${ep.lookupText}, and the socket is IPv6-only`,
      details: [
        failedLine(ctx, ep),
        `${ep.host} is an IPv4-mapped address; a socket with IPV6_V6ONLY refuses it with EINVAL.`,
        v6only
          ? 'The socket was opened with ipv6Only: true.'
          : 'The socket options were not given; EINVAL for a mapped address means IPV6_V6ONLY was set (for example by net.ipv6.bindv6only = 1).',
      ],
      evidence,
      remediation: [
        { title: 'Let the IPv6 socket take IPv4 traffic', option: 'ipv6Only: false' },
        { title: `Or bind the IPv4 address itself on an IPv4 socket`, option: `host: '${ep.lookupText}'` },
      ],
    };
  }

  const why = ipv6Unavailable(ctx);
  if (ctx.code === 'EAFNOSUPPORT') {
    const family = ep?.ip?.family ?? ep?.family ?? 6;
    const syscall = ctx.error?.syscall ?? 'socket';
    return {
      cause: 'family-unavailable',
      code: ctx.code,
      summary: `IPv${family} is not available on this host: ${syscall}() failed with EAFNOSUPPORT for ${shown}`,
      details: [
        `${syscall}() for an IPv${family} socket failed with EAFNOSUPPORT (address family not supported).`,
        why?.absent === true
          ? 'This kernel has no IPv6: /proc/sys/net/ipv6 is missing (booted with ipv6.disable=1, or built without IPv6).'
          : 'The kernel has the family; a seccomp filter or the container runtime may refuse sockets of it.',
      ],
      evidence,
      remediation: [
        bindIpv4(ep),
        {
          title: ENABLE_IN_KERNEL,
          commands: ['grep -o "ipv6.disable=[0-9]" /proc/cmdline', 'grep -n ipv6.disable /etc/default/grub'],
        },
      ],
    };
  }

  const sysctl = why?.sysctl ?? 'net.ipv6.conf.all.disable_ipv6';
  const scope = sysctl.split('.')[3] ?? 'all';
  const where = why?.absent === true ? 'this kernel has no IPv6' : `IPv6 is disabled (${sysctl} = 1)`;
  if (ctx.step === 'connect' && ctx.remote !== undefined) {
    const shownRemote = formatEndpoint(ctx.remote.host, ctx.remote.port);
    return {
      cause: 'family-unavailable',
      code: ctx.code,
      summary: `Cannot connect to ${shownRemote}: ${where}, so this host has no IPv6 source address`,
      details: [
        `connect to ${shownRemote} failed with ${ctx.code}: with no IPv6 address on any interface there is no source to connect from.`,
        'A name that resolves to IPv6 and IPv4 (localhost: ::1 and 127.0.0.1) is still tried over IPv4.',
      ],
      evidence: { ...evidence, destination: shownRemote },
      remediation: [
        { title: 'Connect over IPv4: an IPv4 address, or family: 4 for a name', option: 'family: 4' },
        {
          title: `Or enable IPv6 again (find what disabled it first)`,
          commands: ['grep -rn disable_ipv6 /etc/sysctl.conf /etc/sysctl.d/', ...sysctlCommands(sysctl, 0)],
        },
      ],
    };
  }
  return {
    cause: 'family-unavailable',
    code: ctx.code,
    summary: `Cannot bind ${shown}: ${where}`,
    details: [
      ...(ep !== undefined ? [failedLine(ctx, ep)] : []),
      why?.absent === true
        ? '/proc/sys/net/ipv6 is missing: the kernel was booted with ipv6.disable=1 or built without IPv6.'
        : `${sysctl} is 1: the kernel removes the IPv6 addresses of ${scope === 'all' ? 'every interface' : scope}, so only the wildcard :: still binds.`,
    ],
    evidence,
    remediation:
      why?.absent === true
        ? [
            bindIpv4(ep),
            { title: ENABLE_IN_KERNEL, commands: ['grep -o "ipv6.disable=[0-9]" /proc/cmdline'] },
          ]
        : [
            {
              title: `Enable IPv6 again on ${scope === 'all' ? 'every interface' : scope} (find what disabled it first)`,
              commands: [
                'grep -rn disable_ipv6 /etc/sysctl.conf /etc/sysctl.d/',
                ...sysctlCommands(sysctl, 0),
              ],
              warning:
                'Someone disabled IPv6 on purpose: addresses come back only after the interface is configured again.',
            },
            bindIpv4(ep, 'Or bind an IPv4 address instead'),
          ],
  };
}
