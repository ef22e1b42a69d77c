// The causes about the local address itself: absent, late, tentative, duplicate, wrong family, or
// link-local without its link. Each builder turns the facts in the context into a Diagnosis.
import type { Address, Diagnosis, Family, Remediation } from '../types.js';
import type { Context, Endpoint } from './context.js';
import { isLinkLocalV6, isLoopback, parseIp } from './ip.js';
import {
  attachAddress,
  ipAddrCommand,
  freebindRemedy,
  linkUpRemedy,
  networkOnlineRemedy,
  noDadRemedy,
  nonlocalBindRemedy,
  sysctlCommands,
  waitForAddressRemedy,
} from './remedies.js';
import { shellArg } from './shell.js';
import { describeAddress, formatEndpoint, listing, plural, withZone } from './text.js';

const SHOWN_ADDRESSES = 8;

const EMPTY_ENDPOINT: Endpoint = {
  host: '',
  port: undefined,
  ip: undefined,
  lookup: undefined,
  lookupText: '',
  mapped: false,
  family: undefined,
  zone: undefined,
  scopeId: undefined,
  present: [],
  subnet: undefined,
};

/** The local endpoint; the classifier only picks these causes when there is one. */
function localOf(ctx: Context): Endpoint {
  return ctx.local ?? { ...EMPTY_ENDPOINT, host: ctx.error?.address ?? '' };
}

function shownLocal(ep: Endpoint): string {
  return formatEndpoint(withZone(ep.host, ep.zone), ep.port);
}

function shownRemote(ctx: Context): string {
  const remote = ctx.remote;
  return remote === undefined ? 'the destination' : formatEndpoint(remote.host, remote.port);
}

function familyOf(ep: Endpoint): Family {
  return ep.family ?? 4;
}

function hostLength(family: Family): number {
  return family === 4 ? 32 : 128;
}

function isUsable(entry: Address): boolean {
  return !entry.flags.includes('tentative') && !entry.flags.includes('dadfailed');
}

/** The one interface the address could go on, when the failure or the host leaves no doubt. */
export function guessInterface(ctx: Context, family: Family): string | undefined {
  const named = ctx.failure.options.device ?? ctx.local?.zone;
  if (named !== undefined) return named;
  const candidates = new Set(
    ctx.addresses
      .filter((entry) => entry.family === family && !entry.flags.includes('loopback'))
      .map((entry) => entry.interface),
  );
  return candidates.size === 1 ? [...candidates][0] : undefined;
}

function interfaceFlag(ctx: Context, iface: string, flag: string): boolean {
  return ctx.addresses.some((entry) => entry.interface === iface && entry.flags.includes(flag));
}

function addressEvidence(entry: Address): Record<string, unknown> {
  return {
    interface: entry.interface,
    address: entry.address,
    prefixLength: entry.prefixLength,
    flags: entry.flags,
  };
}

function baseEvidence(ctx: Context, ep: Endpoint): Record<string, unknown> {
  const evidence: Record<string, unknown> = { address: ep.host, port: ep.port, family: ep.family };
  if (ep.mapped) evidence['ipv4'] = ep.lookupText;
  if (ep.zone !== undefined) evidence['interface'] = ep.zone;
  if (ctx.step === 'bind' && ctx.failure.operation === 'connect' && ctx.remote !== undefined) {
    evidence['destination'] = formatEndpoint(ctx.remote.host, ctx.remote.port);
  }
  return evidence;
}

function failedLine(ctx: Context, ep: Endpoint): string {
  const what = `${ctx.error?.syscall ?? 'bind'}(${shownLocal(ep)})`;
  const during = ctx.failure.operation === 'connect' ? ` while connecting to ${shownRemote(ctx)}` : '';
  return `${what}${during} failed with ${ctx.code}.`;
}

function mappedLine(ep: Endpoint): string[] {
  return ep.mapped
    ? [
        `${ep.host} is the IPv4 address ${ep.lookupText} mapped into IPv6; the kernel binds it as ${ep.lookupText}.`,
      ]
    : [];
}

/** address-not-local and source-not-local: the address is on no interface. */
export function notLocal(ctx: Context, asSource: boolean): Diagnosis {
  const ep = localOf(ctx);
  const family = familyOf(ep);
  const address = ep.lookupText;
  const subnet = ep.subnet;
  const sameFamily = ctx.addresses.filter((entry) => entry.family === family);
  const details = [failedLine(ctx, ep), ...mappedLine(ep)];
  if (!ctx.addressesKnown) {
    details.push('The address list of this host could not be read, so this rests on the error code alone.');
  } else if (sameFamily.length === 0) {
    details.push(`${address} is not an address of this host, which has no IPv${family} address at all.`);
  } else {
    const shown = sameFamily.slice(0, SHOWN_ADDRESSES).map(describeAddress);
    const more =
      sameFamily.length > SHOWN_ADDRESSES ? ` and ${sameFamily.length - SHOWN_ADDRESSES} more` : '';
    details.push(
      `${address} is not among the ${plural(sameFamily.length, `IPv${family} address`, `IPv${family} addresses`)} of this host: ${shown.join(', ')}${more}.`,
    );
  }
  if (subnet !== undefined) {
    details.push(
      `${address} lies in ${subnet.interface}'s subnet ${subnet.cidr} (${subnet.interface} has ${subnet.address.address}/${subnet.prefixLength}): ` +
        'an address meant for that link (a VIP, secondary or DHCP address) that is not attached yet, or was removed.',
    );
  } else if (ctx.addressesKnown) {
    details.push(
      `No interface's subnet contains ${address}: check the configured address for a typo, or whether it belongs to another host.`,
    );
  }
  const disabledV6 = ep.ip?.family === 6 && !ep.mapped ? disabledIpv6Interfaces(ctx) : [];
  if (disabledV6.length > 0) {
    details.push(
      `IPv6 is disabled on ${listing(disabledV6)} (disable_ipv6 = 1): if ${address} belongs there, it was removed with the rest of its IPv6 addresses.`,
    );
  }

  const iface = subnet?.interface ?? guessInterface(ctx, family) ?? '<interface>';
  const prefixLength = subnet?.prefixLength ?? hostLength(family);
  const remediation: Remediation[] = [attachAddress(address, prefixLength, iface)];
  const evidence = baseEvidence(ctx, ep);
  evidence['localAddresses'] = sameFamily.map(addressEvidence);
  if (subnet !== undefined) {
    evidence['subnet'] = {
      interface: subnet.interface,
      network: subnet.network,
      prefixLength: subnet.prefixLength,
      cidr: subnet.cidr,
      address: subnet.address.address,
    };
  }

  if (asSource) {
    const destination = shownRemote(ctx);
    const usable = sameFamily.filter((entry) => isUsable(entry) && !entry.flags.includes('loopback'));
    const preferred = usable.find((entry) => entry.interface === subnet?.interface) ?? usable[0];
    if (preferred !== undefined) {
      remediation.push({
        title: `Use a source address this host has (${listing(usable.map((entry) => `${entry.address} on ${entry.interface}`))}), or leave localAddress out and let the route choose`,
        option: `localAddress: '${preferred.address}'`,
      });
    }
    remediation.push({
      ...freebindRemedy('the source address exists'),
      warning: `Replies from ${destination} reach this host only once ${address} is attached here or routed to it.`,
    });
    remediation.push(waitForAddressRemedy(address));
    return {
      cause: 'source-not-local',
      code: ctx.code,
      summary:
        `Cannot connect to ${destination} from ${address}: the source address ${address} is not an address of this host` +
        unattachedNote(subnet),
      details,
      evidence,
      remediation,
    };
  }

  remediation.push(
    freebindRemedy('the address exists'),
    waitForAddressRemedy(address),
    networkOnlineRemedy(),
  );
  const nonlocalOn = family === 4 ? ctx.sysctls?.ipNonlocalBind.v4 : ctx.sysctls?.ipNonlocalBind.v6;
  if (nonlocalOn !== true) remediation.push(nonlocalBindRemedy(family));
  return {
    cause: 'address-not-local',
    code: ctx.code,
    summary:
      `Cannot bind ${shownLocal(ep)}: ${address} is not an address of this host` + unattachedNote(subnet),
    details,
    evidence,
    remediation,
  };
}

function dadTransmits(ctx: Context, iface: string): number {
  const table = ctx.sysctls?.dadTransmits ?? {};
  return table[iface] ?? table['default'] ?? 1;
}

/** address-appeared: the address is there now; the bind ran before it was. */
export function addressAppeared(ctx: Context): Diagnosis {
  const ep = localOf(ctx);
  const address = ep.lookupText;
  const entry = ep.present[0];
  const where = entry !== undefined ? ` on ${entry.interface}` : '';
  const probed = ctx.host.rebind?.ok === true;
  const details = [failedLine(ctx, ep), ...mappedLine(ep)];
  if (entry !== undefined) {
    details.push(
      `${address} is now on ${entry.interface} (${entry.address}/${entry.prefixLength}, flags ${entry.flags.join(' ')}).`,
    );
  } else if (probed) {
    details.push(`${address} was not in the address list read, but the probe bind below found it bindable.`);
  }
  details.push(
    probed
      ? `A probe bind of ${address} made after the failure succeeded: the address became bindable in between.`
      : 'No probe bind was made; a present address binds (IPv4 whatever the link state, IPv6 once it is no longer tentative), so it was most likely attached after the failure.',
  );
  if (entry !== undefined && entry.family === 4 && !interfaceFlag(ctx, entry.interface, 'up')) {
    details.push(
      `${entry.interface} is down, but IPv4 addresses bind whatever the link state: the link is not why the bind failed.`,
    );
  }
  if (entry !== undefined && entry.family === 6) {
    const transmits = dadTransmits(ctx, entry.interface);
    details.push(
      `A new IPv6 address stays tentative while duplicate address detection runs (net.ipv6.conf.${entry.interface}.dad_transmits = ${transmits}, about ${transmits} s), and a bind in that window fails the same way.`,
    );
  }
  details.push(
    'The usual race: the service starts before DHCP, keepalived or the interface bring-up attaches the address.',
  );
  const evidence = baseEvidence(ctx, ep);
  evidence['present'] = ep.present.map(addressEvidence);
  evidence['rebind'] = ctx.host.rebind ?? 'not attempted';
  return {
    cause: 'address-appeared',
    code: ctx.code,
    summary: `${address} is${where} now${probed ? ' and binds' : ''}: bind ${shownLocal(ep)} ran before the address was ready (a start-up race)`,
    details,
    evidence,
    remediation: [waitForAddressRemedy(address), freebindRemedy('the address exists'), networkOnlineRemedy()],
  };
}

/** address-tentative: listed, but DAD is running or cannot run because the link has no carrier. */
export function addressTentative(ctx: Context): Diagnosis {
  const ep = localOf(ctx);
  const address = ep.lookupText;
  const entry = ep.present.find((candidate) => candidate.flags.includes('tentative')) ?? ep.present[0];
  const iface = entry?.interface ?? ep.zone ?? '<interface>';
  const prefixLength = entry?.prefixLength ?? 128;
  const up = interfaceFlag(ctx, iface, 'up');
  const carrier = interfaceFlag(ctx, iface, 'running');
  const transmits = dadTransmits(ctx, iface);
  const acceptDad = ctx.sysctls?.acceptDad[iface];
  const details = [
    failedLine(ctx, ep),
    `${address}/${prefixLength} is on ${iface} with flags ${entry?.flags.join(' ') ?? 'tentative'}: the kernel lists it but will not bind a tentative IPv6 address.`,
  ];
  let summary: string;
  let remediation: Remediation[];
  if (!up || !carrier) {
    const state = !up ? `${iface} is down` : `${iface} has no carrier (up, but not running)`;
    summary = `Cannot bind ${shownLocal(ep)}: ${address} on ${iface} is tentative because ${state}; it binds once the link is up and DAD completes`;
    details.push(
      `${state}: duplicate address detection cannot run without a link, so the address stays tentative until the link comes up.`,
    );
    remediation = [
      linkUpRemedy(iface, !up),
      freebindRemedy('the address is usable'),
      waitForAddressRemedy(address),
      noDadRemedy(address, prefixLength, iface),
    ];
  } else {
    summary = `Cannot bind ${shownLocal(ep)}: ${address} on ${iface} is still tentative, duplicate address detection is running (dad_transmits = ${transmits}, about ${transmits} s)`;
    details.push(
      `${iface} is up with carrier; net.ipv6.conf.${iface}.dad_transmits is ${transmits}: DAD sends ${plural(transmits, 'neighbour solicitation')} about 1 s apart, then the address becomes usable.`,
    );
    remediation = [
      waitForAddressRemedy('DAD to finish'),
      freebindRemedy('DAD finishes'),
      noDadRemedy(address, prefixLength, iface),
    ];
  }
  if (acceptDad !== undefined) details.push(`net.ipv6.conf.${iface}.accept_dad is ${acceptDad}.`);
  const evidence = baseEvidence(ctx, ep);
  Object.assign(evidence, {
    present: ep.present.map(addressEvidence),
    interface: iface,
    up,
    carrier,
    dadTransmits: transmits,
    acceptDad,
  });
  return { cause: 'address-tentative', code: ctx.code, summary, details, evidence, remediation };
}

/** address-dad-failed: another host on the link answered for the address. */
export function addressDadFailed(ctx: Context): Diagnosis {
  const ep = localOf(ctx);
  const address = ep.lookupText;
  const entry = ep.present.find((candidate) => candidate.flags.includes('dadfailed')) ?? ep.present[0];
  const iface = entry?.interface ?? '<interface>';
  const prefixLength = entry?.prefixLength ?? 128;
  const evidence = baseEvidence(ctx, ep);
  evidence['present'] = ep.present.map(addressEvidence);
  evidence['interface'] = iface;
  return {
    cause: 'address-dad-failed',
    code: ctx.code,
    summary: `Cannot bind ${shownLocal(ep)}: ${address} failed duplicate address detection on ${iface}, another host on the link already uses it`,
    details: [
      failedLine(ctx, ep),
      `${address}/${prefixLength} is on ${iface} with flags ${entry?.flags.join(' ') ?? 'dadfailed'}: a neighbour answered for it during DAD, and the kernel will not use it.`,
      'It stays unusable until it is removed and added again after the other host gives it up.',
    ],
    evidence,
    remediation: [
      {
        title: `Find the other host that owns ${address} on ${iface}`,
        commands: [
          `ndisc6 ${shellArg(address)} ${shellArg(iface)}`,
          `ip -6 neigh show ${shellArg(address)} dev ${shellArg(iface)}`,
        ],
        warning:
          'Do not get past this with nodad or accept_dad=0: two hosts answering for one address both lose traffic.',
      },
      {
        title: `Or give this host another address on ${iface}`,
        commands: [
          ipAddrCommand('del', address, prefixLength, iface),
          ipAddrCommand('add', '<another address>', prefixLength, iface),
        ],
      },
      {
        title: `Once the other host has let ${address} go, run DAD again`,
        commands: [
          ipAddrCommand('del', address, prefixLength, iface),
          ipAddrCommand('add', address, prefixLength, iface),
        ],
      },
    ],
  };
}

/** Interfaces with net.ipv6.conf.IF.disable_ipv6 = 1. */
function disabledIpv6Interfaces(ctx: Context): string[] {
  const table = ctx.sysctls?.disableIpv6.interfaces ?? {};
  return Object.entries(table)
    .filter(([, disabled]) => disabled)
    .map(([iface]) => iface);
}

/** Why IPv6 is unusable for this address, if it is: kernel without IPv6, or disable_ipv6 in play. */
export function ipv6Unavailable(ctx: Context): { sysctl?: string; absent: boolean } | undefined {
  const v6 = ctx.sysctls?.disableIpv6;
  if (v6 === undefined) return undefined;
  if (v6.absent) return { absent: true };
  if (v6.all) return { absent: false, sysctl: 'net.ipv6.conf.all.disable_ipv6' };
  const ep = ctx.local;
  const relevant = [ctx.failure.options.device, ep?.zone, ep?.ip && isLoopback(ep.ip) ? 'lo' : undefined];
  const disabled = relevant.find((iface) => iface !== undefined && v6.interfaces[iface] === true);
  return disabled === undefined
    ? undefined
    : { absent: false, sysctl: `net.ipv6.conf.${disabled}.disable_ipv6` };
}

/** family-unavailable: IPv6 absent or disabled, or IPv4 asked of an IPv6-only socket. */
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
    return {
      cause: 'family-unavailable',
      code: ctx.code,
      summary: `IPv${family} is not available on this host: ${ctx.error?.syscall ?? 'socket'}() failed with EAFNOSUPPORT for ${shown}`,
      details: [
        `${ctx.error?.syscall ?? 'socket'}() for an IPv${family} socket failed with EAFNOSUPPORT (address family not supported).`,
        why?.absent === true
          ? 'This kernel has no IPv6: /proc/sys/net/ipv6 is missing (booted with ipv6.disable=1, or built without IPv6).'
          : 'The kernel has the family; a seccomp filter or the container runtime may refuse sockets of it.',
      ],
      evidence,
      remediation: [
        { title: 'Bind an IPv4 address instead', option: `host: '0.0.0.0'` },
        {
          title: 'Enable IPv6 in the kernel: remove ipv6.disable=1 from the kernel command line, then reboot',
          commands: ['grep -o "ipv6.disable=[0-9]" /proc/cmdline', 'grep -n ipv6.disable /etc/default/grub'],
        },
      ],
    };
  }

  const sysctl = why?.sysctl ?? 'net.ipv6.conf.all.disable_ipv6';
  const scope = sysctl.split('.')[3] ?? 'all';
  const where = why?.absent === true ? 'this kernel has no IPv6' : `IPv6 is disabled (${sysctl} = 1)`;
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
            { title: 'Bind an IPv4 address instead', option: `host: '0.0.0.0'` },
            {
              title:
                'Enable IPv6 in the kernel: remove ipv6.disable=1 from the kernel command line, then reboot',
              commands: ['grep -o "ipv6.disable=[0-9]" /proc/cmdline'],
            },
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
            { title: 'Or bind an IPv4 address instead', option: `host: '0.0.0.0'` },
          ],
  };
}

/** scope-id-required: a link-local address without the link it lives on. */
export function scopeIdRequired(ctx: Context): Diagnosis {
  const ep = localOf(ctx);
  const linkLocal = ctx.addresses.filter((entry) => {
    const ip = parseIp(entry.address);
    return ip !== undefined && isLinkLocalV6(ip) && !entry.flags.includes('loopback');
  });
  const owners = ep.present.map((entry) => entry.interface);
  const candidates = [...new Set([...owners, ...linkLocal.map((entry) => entry.interface)])];
  const best = candidates[0] ?? '<interface>';
  const details = [
    failedLine(ctx, ep),
    `${ep.host} is a link-local IPv6 address (fe80::/10): every link has its own, so the kernel needs the interface (scope id) to know which link is meant.`,
  ];
  if (owners.length > 0) details.push(`${ep.host} is on ${listing(owners)}.`);
  details.push(
    linkLocal.length > 0
      ? `Interfaces with link-local addresses: ${linkLocal.map((entry) => `${entry.interface} (${entry.address})`).join(', ')}.`
      : 'No interface of this host has a link-local address.',
  );
  const evidence = baseEvidence(ctx, ep);
  evidence['owners'] = owners;
  evidence['linkLocal'] = linkLocal.map((entry) => ({ interface: entry.interface, address: entry.address }));
  return {
    cause: 'scope-id-required',
    code: ctx.code,
    summary: `Cannot bind ${formatEndpoint(ep.host, ep.port)}: link-local ${ep.host} needs its interface, as ${ep.host}%${best}`,
    details,
    evidence,
    remediation: [
      {
        title: `Name the interface in the address: ${ep.host}%${best}${candidates.length > 1 ? ` (or ${candidates.slice(1).join(', ')})` : ''}`,
        option: `host: '${ep.host}%${best}'`,
      },
      { title: `Or bind the socket to the interface (SO_BINDTODEVICE)`, option: `device: '${best}'` },
    ],
  };
}

/** The summary's tail for an address that belongs to a link's subnet but is not attached to it. */
function unattachedNote(subnet: { interface: string; cidr: string } | undefined): string {
  return subnet !== undefined
    ? ` (it is in ${subnet.interface}'s subnet ${subnet.cidr} but not attached)`
    : '';
}
