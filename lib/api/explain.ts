// explain(): the diagnosis of a failed bind, listen or connect — from safebind's own SocketError or
// from Node's errors (net, http, dgram) — with the evidence read from this host at the moment of
// the call.
import { diagnose } from '../diagnose/index.js';
import type { Attempt } from '../diagnose/input.js';
import { printable, printableDeep } from '../diagnose/shell.js';
import type { Diagnosis, SocketError } from '../types.js';
import { checkExplainContext, toFailure, toSocketError, type ExplainContext } from './failure.js';
import { gatherSnapshot } from './gather.js';

export type { ExplainContext } from './failure.js';

/**
 * Gathers the host snapshot a failure needs and decides its cause. Internal to the api layer. The
 * text a person reads (summary, details, remediation) has the control characters of host-supplied
 * names escaped, wherever the caller prints it; `evidence` keeps the names exactly as read.
 */
export async function diagnoseFailure(failure: Attempt): Promise<Diagnosis> {
  const d = diagnose(failure, gatherSnapshot(failure));
  return {
    ...d,
    summary: printable(d.summary),
    details: printableDeep(d.details),
    remediation: printableDeep(d.remediation),
  };
}

/**
 * Explains a failed bind, listen or connect: which cause it is, the evidence read from the host,
 * and the fix with real values filled in.
 *
 * Takes a Node error (`listen`, `bind`, `connect` from net, http, dgram) or a {@link SocketError},
 * plus what the error lacks in `context` — a connect error does not name its source, a dgram error
 * does not name its protocol. Resolves a {@link Diagnosis}; what could not be checked is said in
 * its details. Throws a TypeError only when `err` is not an error object at all, or `context` is not
 * an object or has a field of the wrong type (`port: '80'`).
 *
 * @example
 * server.on('error', async (e) => console.error(await explain(e)));
 */
export async function explain(err: unknown, context?: ExplainContext): Promise<Diagnosis> {
  const error: SocketError = toSocketError(err);
  checkExplainContext(context);
  const diagnosis = await diagnoseFailure(toFailure(error, context));
  // A dgram bind error looks exactly like a TCP one and names no protocol: when no TCP socket holds
  // the port and the caller did not say, the holder is most likely a UDP socket.
  if (
    context?.protocol === undefined &&
    error.syscall === 'bind' &&
    diagnosis.cause === 'port-in-use' &&
    isEmptyList(diagnosis.evidence['holders'])
  ) {
    const udp = await diagnoseFailure(toFailure(error, { ...context, protocol: 'udp' }));
    const held = udp.evidence['holders'];
    if (Array.isArray(held) && held.length > 0) return udp;
  }
  return diagnosis;
}

function isEmptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length === 0;
}
