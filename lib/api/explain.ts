// explain(): the diagnosis of a failed bind, listen or connect — from safebind's own SocketError or
// from Node's errors (net, http, dgram) — with the evidence read from this host at the moment of
// the call.
import { diagnose } from '../diagnose/index.js';
import type { Attempt } from '../diagnose/input.js';
import { printable, printableDeep } from '../diagnose/shell.js';
import type { Diagnosis, SocketError } from '../types.js';
import { checkExplainContext, toFailure, toSocketError, type ExplainContext } from './failure.js';
import { explainChain, isConnectBindError, isDgramBindError } from './error-chain.js';
import { snapshotError } from './error-snapshot.js';
import { formatEndpoint } from '../diagnose/text.js';
import { gatherSnapshot, prefetchWithoutAddon, type Prefetched } from './gather.js';
import { arpProbe, hostReader, probeNeighbour, readAddresses } from '../host/index.js';
import type { Neighbour } from '../host/types.js';
import { findContainingSubnet, formatIp, mappedV4, parseIp } from '../model/index.js';

export type { ExplainContext } from './failure.js';

/**
 * For `probe` (preflight --probe): asks the link who has a bind address that is not local. In the
 * subnet of a local interface, one datagram makes the kernel ask (ARP for IPv4, a neighbour
 * solicitation for IPv6) and the snapshot's neighbour table then holds the owner. An IPv4 address
 * in no local subnet is asked with an RFC 5227 ARP probe on every interface that is up (not
 * loopback): the answers are returned, as the kernel keeps no entry for them. Costs up to a second
 * when nobody answers. Link-local IPv6 is not asked (the probe would need its zone).
 */
async function askTheLink(
  failure: Attempt,
): Promise<{ found: Neighbour[]; unavailable: string[]; asked?: true }> {
  const none = { found: [], unavailable: [] };
  if (failure.operation === 'connect' || failure.error?.code !== 'EADDRNOTAVAIL') return none;
  const host = failure.local?.host;
  if (host === undefined) return none;
  const ip = parseIp(host);
  const target = ip === undefined ? undefined : ip.family === 4 ? ip : (mappedV4(ip) ?? ip);
  if (target === undefined) return none;
  const address = formatIp(target);
  if (target.family === 6 && /^fe[89ab]/i.test(address)) return none;
  const listed = readAddresses();
  if (!listed.ok) return none;
  if (listed.value.some((a) => a.address === address)) return none;
  if (findContainingSubnet(address, listed.value) !== undefined) {
    await probeNeighbour(address);
    // The answer, if any, is in the neighbour table the snapshot reads.
    return { ...none, asked: true };
  }
  if (target.family !== 4) return none;
  const links = [
    ...new Set(
      listed.value
        .filter((a) => a.flags.includes('up') && !a.flags.includes('loopback'))
        .map((a) => a.interface),
    ),
  ];
  const answers = await Promise.all(links.map((link) => arpProbe(link, address)));
  const found: Neighbour[] = [];
  const unavailable: string[] = [];
  answers.forEach((answer, i) => {
    if (!answer.ok) unavailable.push(`an ARP probe on ${links[i]} (${answer.error.message})`);
    else if (answer.value !== undefined) found.push(answer.value);
  });
  // Asked only where a probe went out.
  return answers.some((answer) => answer.ok) ? { found, unavailable, asked: true } : { found, unavailable };
}

/**
 * Gathers the host snapshot a failure needs and decides its cause. Internal to the api layer. The
 * text a person reads (summary, details, remediation) has the control characters of host-supplied
 * names escaped, wherever the caller prints it; `evidence` keeps the names exactly as read.
 */
export async function diagnoseFailure(
  failure: Attempt,
  { probe = false }: { probe?: boolean } = {},
): Promise<Diagnosis> {
  const asked = probe ? await askTheLink(failure) : undefined;
  // Without the addon, the probe bind and the route lookup use Node's own (asynchronous) sockets:
  // made here, before the synchronous gathering.
  return diagnoseNow(failure, await prefetchWithoutAddon(failure), asked);
}

/**
 * diagnoseFailure without the probe's wait, synchronously: the host snapshot is read with blocking
 * calls already, so the only wait a diagnosis has is the probe's. watchErrors needs this to explain
 * an error in the last moment of a process that is about to die of it (an uncaught exception).
 * Without the addon, what only Node's asynchronous sockets can read comes in `prefetched`, or is
 * said to be unavailable.
 */
function diagnoseNow(
  failure: Attempt,
  prefetched?: Prefetched,
  asked?: Awaited<ReturnType<typeof askTheLink>>,
): Diagnosis {
  const snapshot = gatherSnapshot(failure, prefetched);
  if (asked !== undefined) {
    if (asked.asked === true) snapshot.linkAsked = true;
    snapshot.neighbours = [...(snapshot.neighbours ?? []), ...asked.found];
    snapshot.unavailable.push(...asked.unavailable);
  }
  const d = diagnose(failure, snapshot);
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
 * does not name its protocol. Errors are taken exactly as client libraries hand them: fetch's
 * `TypeError: fetch failed` is explained through its `.cause`, and the AggregateError of a
 * happy-eyeballs connect (pg, ioredis, net to `localhost`) through its `.errors`, each distinct
 * failure diagnosed and all summarised in one Diagnosis (`evidence.members` holds each). The
 * members' causes differ when, say, ::1 has no route and 127.0.0.1 refused: the cause that says
 * most about what to fix leads (`CAUSE_RANK` in lib/diagnose/combine.ts). A 'bind' error that Node
 * raised for the `localAddress` of net.connect or http.request is the source of a connect
 * (`source-not-local`), not a bind of its own. Resolves a {@link Diagnosis}; what could not be
 * checked is said in its details. Throws a TypeError only when `err` is not an error object at all, or `context` is not
 * an object or has a field of the wrong type (`port: '80'`).
 *
 * @example
 * server.on('error', async (e) => console.error(await explain(e)));
 */
export async function explain(given: unknown, context?: ExplainContext): Promise<Diagnosis> {
  if (hostReader().kind === 'addon') return explainNow(given, context);
  const err = snapshotError(given);
  // Without the addon, the probe bind and the route lookup are made with Node's asynchronous
  // sockets: a first pass finds the errors of the chain to explain, their facts are fetched, and
  // the second pass explains each with them.
  toSocketError(err); // a TypeError for what is not an error object at all
  checkExplainContext(context);
  const members: object[] = [];
  explainChain(err as object, (member) => {
    members.push(member);
    return explainOne(member, context);
  });
  const prefetched = new Map<object, Prefetched | undefined>();
  for (const member of members)
    prefetched.set(member, await prefetchWithoutAddon(memberFailure(member, context)));
  return explainChain(err as object, (member) => explainOne(member, context, prefetched));
}

/**
 * explain(), synchronously: for watchErrors, which must be able to explain an error in the last
 * moment of a process that dies of it (no turn of the event loop is left then). Same checks, same
 * TypeErrors, same Diagnosis.
 */
export function explainNow(given: unknown, context?: ExplainContext): Diagnosis {
  // Read once, field by field: a getter that throws is a field left out, not a rejection.
  const err = snapshotError(given);
  toSocketError(err); // a TypeError for what is not an error object at all
  checkExplainContext(context);
  return explainChain(err as object, (error) => explainOne(error, context));
}

/** The context of one error of a chain: what the error does not say, completed from where it came from. */
function memberContext(err: object, given: ExplainContext | undefined): ExplainContext | undefined {
  const error: SocketError = toSocketError(err);
  // Which step failed, when the error does not say: net's bind of a localAddress, or a code only a
  // connect gives (an AggregateError carries one and no syscall).
  const connectStep = isConnectBindError(err) || (error.syscall === '' && CONNECT_ONLY_CODES.has(error.code));
  const asked =
    given?.operation === undefined && connectStep ? { ...given, operation: 'connect' as const } : given;
  // dgram's own bind error is told apart by where Node made it (isDgramBindError): it is UDP.
  const context =
    asked?.protocol === undefined && !connectStep && isDgramBindError(err)
      ? { ...asked, protocol: 'udp' as const }
      : asked;
  return context;
}

/** The Attempt one error of a chain stands for. */
function memberFailure(err: object, given: ExplainContext | undefined): Attempt {
  return toFailure(toSocketError(err), memberContext(err, given));
}

/** One socket error, as Node or safebind made it; `prefetched`: see explain(). */
/**
 * The diagnosis an error of safebind's already carries, made when it failed: a SourceConnectError
 * (safebind/agent, safeConnect's pools) holds the figures of every source tried, which a second
 * reading of the host after the fact cannot give (it would count all the sources against one pool).
 */
function carriedDiagnosis(err: object): Diagnosis | undefined {
  const e = err as { name?: unknown; diagnosis?: unknown };
  if (e.name !== 'SourceConnectError' || typeof e.diagnosis !== 'object' || e.diagnosis === null)
    return undefined;
  const d = e.diagnosis as Partial<Diagnosis>;
  const whole =
    typeof d.cause === 'string' &&
    typeof d.summary === 'string' &&
    Array.isArray(d.details) &&
    Array.isArray(d.remediation) &&
    typeof d.evidence === 'object' &&
    d.evidence !== null;
  return whole ? (d as Diagnosis) : undefined;
}

function explainOne(
  err: object,
  given: ExplainContext | undefined,
  prefetched?: Map<object, Prefetched | undefined>,
): Diagnosis {
  const carried = carriedDiagnosis(err);
  if (carried !== undefined) return carried;
  const error: SocketError = toSocketError(err);
  const context = memberContext(err, given);
  const fetched = prefetched?.get(err);
  const diagnosis = diagnoseNow(toFailure(error, context), fetched);
  // Otherwise a bind error names no protocol: when the caller did not say either, the holders of the
  // port under TCP and under UDP are both read. One protocol with holders decides; both with
  // holders is said as such, never settled for TCP in silence.
  if (context?.protocol === undefined && error.syscall === 'bind' && diagnosis.cause === 'port-in-use') {
    const udp = diagnoseNow(toFailure(error, { ...context, protocol: 'udp' }), fetched);
    const tcpHeld = hasHolders(diagnosis);
    const udpHeld = udp.cause === 'port-in-use' && hasHolders(udp);
    if (udpHeld && !tcpHeld) return udp;
    if (udpHeld && tcpHeld) return eitherProtocol(diagnosis, udp);
  }
  return diagnosis;
}

/** Port-in-use under TCP and under UDP, the error naming neither: both, said as undecided. */
function eitherProtocol(tcp: Diagnosis, udp: Diagnosis): Diagnosis {
  const address = typeof tcp.evidence['address'] === 'string' ? tcp.evidence['address'] : '';
  const port = typeof tcp.evidence['port'] === 'number' ? tcp.evidence['port'] : 0;
  const shown = address === '' ? `port ${port}` : formatEndpoint(address, port);
  const holders = [tcp.evidence['holders'], udp.evidence['holders']].flatMap((h) =>
    Array.isArray(h) ? h : [],
  );
  const indent = (lines: string[]) => lines.map((line) => `  ${line}`);
  const labelled = (label: string, d: Diagnosis) =>
    d.remediation.map((r) => ({ ...r, title: `${label}: ${r.title}` }));
  return {
    ...tcp,
    summary: `Cannot bind ${shown}: port ${port} is taken by TCP and by UDP sockets, and the error does not say which protocol the bind was for`,
    details: [
      "The error names no protocol and no context gave one ({ protocol: 'tcp' | 'udp' }): a bind error of dgram and one of net look alike, so the holders under both protocols are listed.",
      'If the bind was TCP:',
      ...indent(tcp.details),
      'If the bind was UDP:',
      ...indent(udp.details),
    ],
    evidence: {
      ...tcp.evidence,
      protocol: undefined,
      protocolGiven: false,
      holders,
      tcp: tcp.evidence,
      udp: udp.evidence,
    },
    remediation: [
      { title: "Pass the protocol to explain(err, { protocol: 'udp' }) (or 'tcp') for one answer" },
      ...labelled('If the bind was TCP', tcp),
      ...labelled('If the bind was UDP', udp),
    ],
  };
}

function hasHolders(d: Diagnosis): boolean {
  const held = d.evidence['holders'];
  return Array.isArray(held) && held.length > 0;
}

/** Codes that only a connect gives: with no syscall named, the failure was still a connect. */
const CONNECT_ONLY_CODES = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNRESET',
]);
