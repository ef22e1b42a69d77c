// The forecast and audit lines of `safebind doctor`.
import type { ConntrackReading } from '../../host/types.js';
import type { Colours } from './colour.js';
import { count, heading, percent } from './text.js';

/** The figures of a forecast a line needs (a Forecast, or its JSON form in a report). */
export interface ForecastFigures {
  ratePerSec: number;
  steadyUsage: number;
  exhaustionSeconds: number | null;
  unknown?: string;
  timeWait: { holdMs: number; rule: string };
}

function seconds(s: number): string {
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  return `${Math.round(s / 60)} min`;
}

function rate(r: number): string {
  return r >= 10 ? count(r) : r.toFixed(1);
}

/**
 * "at 450 new connections/s toward 10.0.0.7:5432 the pool fills in 38 s; steady state 96%", or what
 * is known instead; undefined when there were no new connections.
 */
export function forecastLine(destination: string, f: ForecastFigures): string | undefined {
  if (f.unknown === 'no-new-connections') return undefined;
  const at = `at ${rate(f.ratePerSec)} new connections/s toward ${destination}`;
  if (f.unknown === 'hold-unknown' || f.unknown === 'pool-not-read')
    return `${at}: the time to exhaustion is unknown (${f.unknown === 'pool-not-read' ? 'the pool could not be read' : f.timeWait.rule})`;
  const steady = Number.isFinite(f.steadyUsage)
    ? `steady state ${percent(f.steadyUsage)}${f.steadyUsage > 1 ? ' (more than the pool holds)' : ''}`
    : 'steady state unknown';
  if (f.exhaustionSeconds === 0) return `${at} the pool is full now; ${steady}`;
  if (f.exhaustionSeconds !== null)
    return `${at} the pool fills in ${seconds(f.exhaustionSeconds)}; ${steady}`;
  return `${at} the pool does not fill; ${steady}`;
}

export function conntrackLine(r: ConntrackReading): string {
  if (r.loaded === 'unknown') return `conntrack: unknown (${r.why})`;
  if (!r.loaded) return `conntrack: not loaded (${r.why})`;
  const fill =
    r.count !== undefined && r.max !== undefined && r.max > 0
      ? `${count(r.count)} of ${count(r.max)} entries (${percent(r.count / r.max)})`
      : `${r.count ?? '?'} entries, limit ${r.max ?? 'unreadable'}`;
  const lost = `insert_failed ${r.insertFailed ?? 'unreadable'}, drop ${r.drop ?? 'unreadable'}, early_drop ${r.earlyDrop ?? 'unreadable'}`;
  return `conntrack: ${fill}; ${lost}`;
}

export function section(c: Colours, title: string, lines: string[]): string[] {
  return ['', heading(c, title), ...lines.map((l) => `  ${l}`)];
}
