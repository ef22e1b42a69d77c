// The causes with no host evidence behind them (bad input, not Linux) and `unknown`, which still
// reports the errno and everything that was read so a person can take it from there.
import type { Diagnosis, Remediation } from '../types.js';
import type { Context } from './context.js';
import { formatEndpoint, withZone } from './text.js';

function endpointText(ctx: Context): string | undefined {
  const ep = ctx.step === 'connect' ? ctx.remote : (ctx.local ?? ctx.remote);
  return ep === undefined ? undefined : formatEndpoint(withZone(ep.host, ep.zone), ep.port);
}

export function invalidAddress(ctx: Context): Diagnosis {
  const given = ctx.failure.local ?? ctx.failure.remote;
  const reason = ctx.failure.invalid ?? 'the address or port is not usable';
  return {
    cause: 'invalid-address',
    code: '',
    summary: `Not a usable address or port: ${reason}`,
    details: [
      `${reason}. No system call was made.`,
      ...(given !== undefined
        ? [`The ${ctx.failure.operation} target was host '${given.host}', port ${given.port}.`]
        : []),
    ],
    evidence: { invalid: reason, host: given?.host, port: given?.port, operation: ctx.failure.operation },
    remediation: [
      {
        title:
          'Fix the address in the configuration: IPv4 as 10.0.0.50:8080, IPv6 in brackets as [fd00::1]:443, link-local ' +
          'with its interface as [fe80::1%eth0]:80; ports 1-65535 (0 lets the kernel choose)',
      },
    ],
  };
}

export function unsupportedPlatform(ctx: Context): Diagnosis {
  const platform = ctx.host.platform;
  if (platform === 'linux') {
    // Linux, but the native addon could not be loaded: the error's message lists every path tried.
    return {
      cause: 'unsupported-platform',
      code: ctx.code,
      summary: 'safebind could not load its native addon on this Linux host',
      details: [
        `The failure was: ${ctx.error?.message ?? 'no native build could be loaded'}.`,
        'No prebuilt addon fits this libc and CPU, and none was compiled at install time.',
      ],
      evidence: { platform, error: ctx.error ?? undefined },
      remediation: [
        {
          title: 'Compile the addon for this host (needs python3, make and a C++ compiler)',
          commands: ['npm rebuild safebind'],
        },
      ],
    };
  }
  return {
    cause: 'unsupported-platform',
    code: ctx.code,
    summary: `safebind explains socket failures on Linux only; this is ${platform}`,
    details: [
      `process.platform is '${platform}'.`,
      ...(ctx.error !== null ? [`The failure was: ${ctx.error.message}.`] : []),
    ],
    evidence: { platform, error: ctx.error ?? undefined },
    remediation: [],
  };
}

/** unknown: `reasons` are what the classifier learnt on the way, already phrased as facts. */
export function unknownCause(
  ctx: Context,
  reasons: readonly string[],
  remediation: Remediation[],
): Diagnosis {
  const error = ctx.error;
  const where = endpointText(ctx);
  const details: string[] = [];
  // An Error with no code, errno or syscall did not come from a system call: there is no errno to
  // explain, and saying " failed with  (errno 0)" would only confuse.
  const systemError = error !== null && (error.code !== '' || error.syscall !== '' || error.errno !== 0);
  if (error !== null && !systemError) {
    details.push(`The error has no errno, code or syscall, so it is not a socket error: ${error.message}.`);
  } else if (error !== null) {
    details.push(
      `${error.syscall}${where !== undefined ? `(${where})` : ''} failed with ${error.code} (errno ${error.errno}): ${error.message}.`,
    );
  } else {
    details.push('No system call failed and no reason was recorded.');
  }
  details.push(...reasons);
  const read: string[] = [];
  if (ctx.addressesKnown) read.push(`${ctx.addresses.length} addresses`);
  if (ctx.sysctls !== undefined) read.push('the network sysctls');
  if (ctx.host.portUsage !== undefined) read.push('the source-port pool');
  if (ctx.host.holders !== undefined) read.push('the port holders');
  if (ctx.host.route !== undefined) read.push('the route');
  if (read.length > 0) details.push(`Read from the host: ${read.join(', ')}; see the evidence.`);

  const evidence: Record<string, unknown> = {
    errno: error?.errno,
    syscall: error?.syscall,
    code: error?.code,
    operation: ctx.failure.operation,
    protocol: ctx.failure.protocol,
  };
  if (ctx.local !== undefined) {
    evidence['local'] = formatEndpoint(withZone(ctx.local.host, ctx.local.zone), ctx.local.port);
    evidence['present'] = ctx.local.present;
    if (ctx.local.subnet !== undefined) evidence['subnet'] = ctx.local.subnet.cidr;
  }
  if (ctx.remote !== undefined) evidence['remote'] = formatEndpoint(ctx.remote.host, ctx.remote.port);
  if (ctx.host.rebind !== undefined) evidence['rebind'] = ctx.host.rebind;
  if (ctx.host.portUsage !== undefined) evidence['portUsage'] = ctx.host.portUsage;
  if (ctx.host.holders !== undefined) evidence['holders'] = ctx.host.holders;
  if (ctx.host.route !== undefined) evidence['route'] = ctx.host.route;
  if (ctx.host.boundPorts !== undefined) evidence['boundPorts'] = ctx.host.boundPorts;
  if (ctx.host.privileges !== undefined) evidence['privileges'] = ctx.host.privileges;

  let summary = 'The operation failed without a system call error; no known cause matched';
  if (error !== null && !systemError) {
    summary = `Not a socket error (no errno, code or syscall): ${error.message}`;
  } else if (error !== null) {
    summary = `${error.syscall} ${error.code}${where !== undefined ? ` on ${where}` : ''}: no known cause matched; the evidence below is what was read`;
  }
  return {
    cause: 'unknown',
    code: ctx.code,
    summary,
    details,
    evidence,
    remediation,
  };
}
