// Whether IPv6 can be used at all for the failing address: a kernel without it, or disable_ipv6 on
// every interface or on the one that matters. Read by the decision and by the causes that explain it.
import type { Context } from './context.js';
import { isLoopback } from '../model/index.js';

/** Interfaces with net.ipv6.conf.IF.disable_ipv6 = 1. */
export function disabledIpv6Interfaces(ctx: Context): string[] {
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
