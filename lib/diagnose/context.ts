// The facts every cause builder needs, worked out once from the failure and the snapshot: which step
// failed, the endpoints as parsed addresses, and which host addresses match the local one.
import type { NetSysctls } from '../host/types.js';
import type { Address, Family, SocketError } from '../types.js';
import type { Attempt, AttemptEndpoint, HostSnapshot } from './input.js';
import {
  containingSubnet,
  formatIp,
  mappedV4,
  parseAddresses,
  parseIp,
  sameIp,
  splitZone,
  zoneIndex,
  type HostIp,
  type Ip,
  type SubnetMatch,
} from '../model/index.js';

export interface Endpoint {
  /** The host as given, without its '%zone'. */
  host: string;
  port: number | undefined;
  ip: Ip | undefined;
  /** What the kernel looks up: the IPv4 part of '::ffff:a.b.c.d', otherwise `ip`. */
  lookup: Ip | undefined;
  /** `lookup` as text: '10.0.0.50' for '::ffff:10.0.0.50', else the host as given. */
  lookupText: string;
  mapped: boolean;
  family: Family | undefined;
  /** The interface the address is scoped to (after '%', or from the scope id), when known. */
  zone: string | undefined;
  scopeId: number | undefined;
  /** Host addresses equal to `lookup` (on the zone's interface when there is one). */
  present: Address[];
  /** The interface whose subnet contains `lookup`. */
  subnet: SubnetMatch | undefined;
}

/** The syscall that failed, as the diagnosis sees it; Node reports a failed bind inside listen() as 'listen'. */
export type Step = 'bind' | 'connect' | 'other';

export interface Context {
  failure: Attempt;
  host: HostSnapshot;
  error: SocketError | null;
  code: string;
  step: Step;
  addresses: Address[];
  /** `addresses` with their text parsed, once for every cause. */
  hostIps: HostIp[];
  /** False when the address list could not be read: absence then proves nothing. */
  addressesKnown: boolean;
  sysctls: NetSysctls | undefined;
  local: Endpoint | undefined;
  remote: Endpoint | undefined;
}

function stepOf(failure: Attempt, error: SocketError | null): Step {
  const syscall = error?.syscall ?? '';
  if (syscall === 'bind' || syscall === 'listen') return 'bind';
  if (syscall === 'connect') return 'connect';
  if (syscall !== '') return 'other';
  return failure.operation === 'connect' ? 'connect' : 'bind';
}

function interfaceByIndex(addresses: readonly Address[], ifindex: number): string | undefined {
  return addresses.find((entry) => entry.ifindex === ifindex)?.interface;
}

type GivenEndpoint = Omit<AttemptEndpoint, 'port'> & { port?: number | undefined };

function endpoint(given: GivenEndpoint, hostIps: readonly HostIp[], addresses: readonly Address[]): Endpoint {
  // Text is parsed only when the endpoint arrived as text (explain() of a Node error).
  const ip = given.ip ?? parseIp(given.host);
  const host = given.ip !== undefined ? given.host : splitZone(given.host).host;
  const zoneText = given.interface ?? ip?.zone;
  const index = zoneIndex(zoneText);
  const scopeId = given.scopeId ?? index;
  const zone =
    zoneText !== undefined && index === undefined
      ? zoneText
      : scopeId !== undefined
        ? interfaceByIndex(addresses, scopeId)
        : undefined;
  const mapped = ip === undefined ? undefined : mappedV4(ip);
  const lookup = mapped ?? ip;
  const present =
    lookup === undefined
      ? []
      : hostIps
          .filter(
            (own) =>
              sameIp(own.ip, lookup) &&
              (zone === undefined || lookup.family === 4 || own.entry.interface === zone),
          )
          .map((own) => own.entry);
  return {
    host,
    port: given.port,
    ip,
    lookup,
    lookupText: mapped ? formatIp(mapped) : host,
    mapped: mapped !== undefined,
    family: lookup?.family ?? given.family,
    zone,
    scopeId,
    present,
    subnet: lookup === undefined ? undefined : containingSubnet(lookup, hostIps, zone),
  };
}

export function buildContext(failure: Attempt, host: HostSnapshot): Context {
  const error = failure.error;
  const step = stepOf(failure, error);
  const addresses = host.addresses ?? [];
  const hostIps = parseAddresses(addresses);
  // A Node error carries the address of the step that failed: the source for a bind, the
  // destination for a connect. Use it when the caller did not say.
  const fromError: GivenEndpoint | undefined =
    error?.address !== undefined ? { host: error.address, port: error.port } : undefined;
  const localGiven = failure.local ?? (step === 'bind' ? fromError : undefined);
  const remoteGiven = failure.remote ?? (step === 'connect' ? fromError : undefined);
  return {
    failure,
    host,
    error,
    code: error?.code ?? '',
    step,
    addresses,
    hostIps,
    addressesKnown: host.addresses !== undefined,
    sysctls: host.sysctls,
    local: localGiven && endpoint(localGiven, hostIps, addresses),
    remote: remoteGiven && endpoint(remoteGiven, hostIps, addresses),
  };
}

/** The port of the local end, from the failure or else from the error. */
export function localPort(ctx: Context): number | undefined {
  return ctx.local?.port ?? (ctx.step === 'bind' ? ctx.error?.port : undefined);
}

/** Whether ip_nonlocal_bind is on for the family of the local address. */
export function nonlocalBindOn(ctx: Context): boolean {
  const family = ctx.local?.family ?? 4;
  return (family === 4 ? ctx.sysctls?.ipNonlocalBind.v4 : ctx.sysctls?.ipNonlocalBind.v6) ?? false;
}

export function nonlocalBindName(family: Family): string {
  return family === 4 ? 'net.ipv4.ip_nonlocal_bind' : 'net.ipv6.ip_nonlocal_bind';
}
