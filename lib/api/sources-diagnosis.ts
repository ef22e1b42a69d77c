// The diagnosis of a connect over a pool of sources that found every source full: the diagnosis
// engine's own for the last source tried (ephemeral-ports-exhausted, when the host shows it), with
// the figures of every source toward the destination added — each read from the host now.
import { formatPercent } from '../model/index.js';
import { readPortUsage } from '../host/index.js';
import { count } from '../diagnose/text.js';
import { formatTarget } from '../sys/index.js';
import type { Diagnosis } from '../types.js';
import { diagnoseFailure } from './explain.js';
import type { SourceConnect, SourcePool } from './source-pool.js';

/** One source's pool toward the destination, as read from the host, and what the pool itself made. */
export interface SourceFigures {
  /** The source address ('' for the route's own source when none was given). */
  source: string;
  /** The error the connect from this source got. */
  code: string;
  /** Sockets toward the destination from this source, any state but LISTEN (TIME_WAIT included). */
  inUse?: number;
  /** ip_local_port_range less the reserved ports in it. */
  poolSize?: number;
  /** inUse / poolSize. */
  usage?: number;
  /** Connections this pool made from the source toward the destination and still open. */
  live: number;
  /** Why the host figures are missing, when they are. */
  notRead?: string;
}

type Failure = Extract<SourceConnect, { ok: false }>;

/**
 * When every pool is full, every request fails until a connection closes: a diagnosis (a few socket
 * dumps, tens of milliseconds) per failed request would add load exactly when the host has least to
 * spare. One diagnosis per pool and destination is shared by the failures of the following second.
 */
const FRESH_MS = 1000;
const recent = new WeakMap<SourcePool, Map<string, { at: number; diagnosis: Promise<Diagnosis> }>>();

/**
 * The diagnosis of a failure over a pool of sources: read now, or shared with one made less than a
 * second ago for the same pool, destination and error code.
 */
export function diagnoseSources(pool: SourcePool, failure: Failure): Promise<Diagnosis> {
  const key = `${failure.attempt.remote?.host ?? ''} ${failure.attempt.remote?.port ?? 0} ${failure.error.code}`;
  let byKey = recent.get(pool);
  if (byKey === undefined) recent.set(pool, (byKey = new Map()));
  const now = Date.now();
  const known = byKey.get(key);
  if (known !== undefined && now - known.at < FRESH_MS) return known.diagnosis;
  for (const [k, v] of byKey) if (now - v.at >= FRESH_MS) byKey.delete(k);
  const diagnosis = diagnoseNow(pool, failure);
  byKey.set(key, { at: now, diagnosis });
  return diagnosis;
}

/** Reads each source's pool toward the destination and adds it to the diagnosis of the last failure. */
async function diagnoseNow(pool: SourcePool, failure: Failure): Promise<Diagnosis> {
  const tried = failure.tried.map((t) => t.source).filter((s) => s !== '');
  const d = await diagnoseFailure(
    failure.exhausted ? { ...failure.attempt, triedSources: tried } : failure.attempt,
  );
  if (!failure.exhausted) return d;
  const remote = failure.attempt.remote;
  if (remote?.ip === undefined) return d;
  const host = remote.host;
  const port = remote.port;
  const live = new Map(pool.tallyOf(host, port).map((t) => [t.source, t.live]));
  const figures: SourceFigures[] = failure.tried.map((t) => {
    const f: SourceFigures = { source: t.source, code: t.error.code, live: live.get(t.source) ?? 0 };
    const read = readPortUsage({ host, port, ...(t.source !== '' ? { localAddress: t.source } : {}) });
    if (read.ok) {
      f.inUse = read.value.inUse;
      f.poolSize = read.value.poolSize;
      f.usage = read.value.usage;
      if (read.value.notRead !== undefined) f.notRead = read.value.notRead;
    } else f.notRead = read.error.message;
    return f;
  });
  const lines = figures.map((f) => {
    const from = f.source === '' ? 'the route’s source' : f.source;
    const used =
      f.inUse === undefined || f.poolSize === undefined || !Number.isFinite(f.poolSize)
        ? `its pool could not be read (${f.notRead ?? 'unknown'})`
        : `${count(f.inUse)} of ${count(f.poolSize)} ports in use (${formatPercent(f.usage ?? NaN)})`;
    return `From ${from}: ${used}, ${count(f.live)} of them open connections of this pool; connect ${f.code}.`;
  });
  return {
    ...d,
    summary:
      d.cause === 'ephemeral-ports-exhausted'
        ? `Every source address (${figures.length}) has run out of source ports toward ${formatTarget(host, port)}.`
        : d.summary,
    details: [
      `Tried ${figures.length} source address${figures.length === 1 ? '' : 'es'}, each full:`,
      ...lines,
      ...d.details,
    ],
    evidence: { ...d.evidence, sources: figures },
  };
}
