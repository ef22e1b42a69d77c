// The kernel's route lookup toward a destination, as `ip route get` shows it: the evidence behind
// `no-route`, and which interface and source address a connect would use.
import { constants as osConstants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { loadBinding } from '../binding.js';
import { bareAddress } from './socket-query.js';
import type { RouteLookup } from './types.js';

/** The failed lookup toward `destination` for an errno (either sign), with its code. */
export function failedRoute(destination: string, errno: number): RouteLookup {
  const positive = Math.abs(errno);
  let code: string;
  try {
    code = getSystemErrorName(-positive);
  } catch {
    code = `E${positive}`;
  }
  return { ok: false, destination, errno: positive, code };
}

/**
 * Looks up the route toward `destination` (an IP literal; '[v6]' and 'fe80::1%eth0' accepted, the
 * zone naming the device), optionally from `source` and out of `device`. No route is
 * `{ ok: false, code: 'ENETUNREACH' }`; an unparseable destination is EINVAL; no addon is ENOTSUP.
 */
export function lookupRoute(
  destination: string,
  opts: { source?: string; device?: string } = {},
): RouteLookup {
  if (typeof destination !== 'string') throw new TypeError('destination must be a string');
  const load = loadBinding();
  if (!load.ok) return failedRoute(destination, osConstants.errno.ENOTSUP ?? 95);
  const b = load.binding;
  const dst = bareAddress(destination);
  if (!dst) return failedRoute(destination, osConstants.errno.EINVAL);
  const zone = destination.replace(/^\[|\]$/g, '').split('%')[1];
  const device = opts.device ?? (zone || undefined);
  const query: Parameters<typeof b.routeGet>[0] = {
    family: dst.family === 6 ? b.constants.AF_INET6 : b.constants.AF_INET,
    dst: dst.address,
  };
  if (opts.source !== undefined) {
    const src = bareAddress(opts.source);
    if (!src || src.family !== dst.family) return failedRoute(destination, osConstants.errno.EINVAL);
    query.src = src.address;
  }
  if (device !== undefined) {
    if (/^\d+$/.test(device)) query.oif = Number(device);
    else query.device = device;
  }
  const route = b.routeGet(query);
  if (typeof route === 'number') return failedRoute(destination, route);
  const typeName = Object.entries(b.constants.routeTypes).find(([, n]) => n === route.type)?.[0];
  const out: RouteLookup = { ok: true, destination: dst.address, type: typeName ?? `type-${route.type}` };
  if (route.oif > 0) out.ifindex = route.oif;
  if (route.oifName !== undefined) out.interface = route.oifName;
  if (route.prefsrc !== undefined) out.source = route.prefsrc;
  if (route.gateway !== undefined) out.gateway = route.gateway;
  return out;
}
