// unknown: no known cause matched. The errno and everything that was read are still reported, with
// what the decision learnt on the way, so a person can take it from there.
import type { Diagnosis } from '../../types.js';
import type { Context } from '../context.js';
import type { Verdict } from '../decide.js';
import { formatEndpoint, withZone } from '../text.js';

function endpointText(ctx: Context): string | undefined {
  const ep = ctx.step === 'connect' ? ctx.remote : (ctx.local ?? ctx.remote);
  return ep === undefined ? undefined : formatEndpoint(withZone(ep.host, ep.zone), ep.port);
}

/** Everything the snapshot holds, as evidence: nothing read is hidden when no cause matched. */
function evidenceOf(ctx: Context): Record<string, unknown> {
  const error = ctx.error;
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
  const host = ctx.host;
  if (host.rebind !== undefined) evidence['rebind'] = host.rebind;
  if (host.portUsage !== undefined) evidence['portUsage'] = host.portUsage;
  if (host.holders !== undefined) evidence['holders'] = host.holders;
  if (host.route !== undefined) evidence['route'] = host.route;
  if (host.boundPorts !== undefined) evidence['boundPorts'] = host.boundPorts;
  if (host.privileges !== undefined) evidence['privileges'] = host.privileges;
  return evidence;
}

/** `verdict.reasons` are what the decision learnt on the way, already phrased as facts. */
export function unknownCause(ctx: Context, verdict: Verdict): Diagnosis {
  const error = ctx.error;
  const where = endpointText(ctx);
  const details: string[] = [];
  // An Error with no code, errno or syscall did not come from a system call: there is no errno to
  // explain, and saying " failed with  (errno 0)" would only confuse.
  const systemError = error !== null && (error.code !== '' || error.syscall !== '' || error.errno !== 0);
  // An error with a code but no syscall (a happy-eyeballs AggregateError) still reads as a sentence.
  const call = error === null || error.syscall === '' ? 'A system call' : error.syscall;
  if (error !== null && !systemError) {
    details.push(`The error has no errno, code or syscall, so it is not a socket error: ${error.message}.`);
  } else if (error !== null) {
    details.push(
      `${call}${where !== undefined ? `(${where})` : ''} failed with ${error.code} (errno ${error.errno}): ${error.message}.`,
    );
  } else {
    details.push('No system call failed and no reason was recorded.');
  }
  details.push(...(verdict.reasons ?? []));
  const read: string[] = [];
  if (ctx.addressesKnown) read.push(`${ctx.addresses.length} addresses`);
  if (ctx.sysctls !== undefined) read.push('the network sysctls');
  if (ctx.host.portUsage !== undefined) read.push('the source-port pool');
  if (ctx.host.holders !== undefined) read.push('the port holders');
  if (ctx.host.route !== undefined) read.push('the route');
  if (read.length > 0) details.push(`Read from the host: ${read.join(', ')}; see the evidence.`);

  let summary = 'The operation failed without a system call error; no known cause matched';
  if (verdict.summary !== undefined) summary = verdict.summary;
  else if (error !== null && !systemError) {
    summary = `Not a socket error (no errno, code or syscall): ${error.message}`;
  } else if (error !== null) {
    // No syscall named: the code alone, not 'A system call EADDRNOTAVAIL'.
    const head = error.syscall === '' ? error.code : `${call} ${error.code}`;
    summary = `${head}${where !== undefined ? ` on ${where}` : ''}: no known cause matched; the evidence below is what was read`;
  }
  return {
    cause: 'unknown',
    code: ctx.code,
    summary,
    details,
    evidence: evidenceOf(ctx),
    remediation: verdict.remediation ?? [],
  };
}
