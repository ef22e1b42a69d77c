// Facts about the local end of a failure that several causes state the same way: how the address
// and the failed call read, the evidence about it, and the interface it most likely belongs on.
import type { Address, Family } from '../types.js';
import type { Context, Endpoint } from './context.js';
import { formatEndpoint, withZone } from './text.js';

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

/** The local endpoint; the decision only picks the address causes when there is one. */
export function localOf(ctx: Context): Endpoint {
  return ctx.local ?? { ...EMPTY_ENDPOINT, host: ctx.error?.address ?? '' };
}

/** '[fe80::1%eth0]:80', as a person types the endpoint. */
export function shownLocal(ep: Endpoint): string {
  return formatEndpoint(withZone(ep.host, ep.zone), ep.port);
}

/** The local address with `port`: '0.0.0.0:80' when the failure named no address. */
export function shownLocalPort(ctx: Context, port: number): string {
  const host = ctx.local === undefined ? '0.0.0.0' : withZone(ctx.local.host, ctx.local.zone);
  return formatEndpoint(host, port);
}

export function shownRemote(ctx: Context): string {
  const remote = ctx.remote;
  return remote === undefined ? 'the destination' : formatEndpoint(remote.host, remote.port);
}

/** The prefix length of a single host: 32 or 128. */
export function hostLength(family: Family): number {
  return family === 4 ? 32 : 128;
}

/** Neither tentative nor failed duplicate address detection: the address can be bound. */
export function isUsable(entry: Address): boolean {
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

/** Whether any address of `iface` carries `flag` (up, running…): the link's own flags. */
export function interfaceFlag(ctx: Context, iface: string, flag: string): boolean {
  return ctx.addresses.some((entry) => entry.interface === iface && entry.flags.includes(flag));
}

/** net.ipv6.conf.IF.dad_transmits, else the default one, else the kernel's 1. */
export function dadTransmits(ctx: Context, iface: string): number {
  const table = ctx.sysctls?.dadTransmits ?? {};
  return table[iface] ?? table['default'] ?? 1;
}

export function addressEvidence(entry: Address): Record<string, unknown> {
  return {
    interface: entry.interface,
    address: entry.address,
    prefixLength: entry.prefixLength,
    flags: entry.flags,
  };
}

/** The evidence every address cause starts from: the address, port and family, and the zone. */
export function baseEvidence(ctx: Context, ep: Endpoint): Record<string, unknown> {
  const evidence: Record<string, unknown> = { address: ep.host, port: ep.port, family: ep.family };
  if (ep.mapped) evidence['ipv4'] = ep.lookupText;
  if (ep.zone !== undefined) evidence['interface'] = ep.zone;
  if (ctx.step === 'bind' && ctx.failure.operation === 'connect' && ctx.remote !== undefined) {
    evidence['destination'] = formatEndpoint(ctx.remote.host, ctx.remote.port);
  }
  return evidence;
}

/** 'bind(10.0.0.50:8080) while connecting to 10.0.0.9:5432 failed with EADDRNOTAVAIL.' */
export function failedLine(ctx: Context, ep: Endpoint): string {
  const what = `${ctx.error?.syscall ?? 'bind'}(${shownLocal(ep)})`;
  const during = ctx.failure.operation === 'connect' ? ` while connecting to ${shownRemote(ctx)}` : '';
  return `${what}${during} failed with ${ctx.code}.`;
}

/** The line that says a '::ffff:a.b.c.d' address is bound as its IPv4 address; none otherwise. */
export function mappedLine(ep: Endpoint): string[] {
  return ep.mapped
    ? [
        `${ep.host} is the IPv4 address ${ep.lookupText} mapped into IPv6; the kernel binds it as ${ep.lookupText}.`,
      ]
    : [];
}

/**
 * What the causes about a present address (appeared, tentative, DAD failed) start from: the endpoint,
 * the address as the kernel looks it up, and evidence that lists the host's entries for it.
 */
export function presentAddressFacts(ctx: Context): {
  ep: Endpoint;
  address: string;
  evidence: Record<string, unknown>;
} {
  const ep = localOf(ctx);
  const evidence = baseEvidence(ctx, ep);
  evidence['present'] = ep.present.map(addressEvidence);
  return { ep, address: ep.lookupText, evidence };
}
