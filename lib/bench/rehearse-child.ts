// The rehearsal child's main: one place that reads the hand-off variable, runs the rehearsal under
// its checks (rehearse.ts) and prints the one JSON line the parent reads. Used by
// lib/bench/rehearse-entry.ts, the module rehearseChurn() spawns.
import { socketError } from '../sys/errors.js';
import type { Result } from '../types.js';
import { REHEARSAL_ENV, rehearsalPlanFromEnv, runRehearsal, type RehearsalPlan } from './rehearse.js';
import type { ChurnReport, ChurnSample } from './types.js';

const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** A plain progress line for a terminal (the parent passes its stderr through with --rehearse). */
function progressLine(s: ChurnSample): string {
  const pool = s.poolSize > 0 ? `  pool ${(s.poolUsage * 100).toFixed(1)}%` : '';
  const errors = s.errors > 0 ? `  errors ${n(s.errors)}` : '';
  return (
    `\r\x1b[2K${(s.tMs / 1000).toFixed(1).padStart(6)} s  ${n(s.connects)} connects  ` +
    `${n(s.ratePerSec)}/s  TIME_WAIT ${n(s.timeWait)}  ESTAB ${n(s.established)}${pool}${errors}`
  );
}

/**
 * Runs the rehearsal the environment describes and prints its Result; a missing or malformed plan
 * is refused (exit 1) before anything is written. SIGINT ends the run early with its report.
 */
export async function rehearsalChild(): Promise<void> {
  const live = process.stderr.isTTY === true;
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.on('SIGINT', onSigint);
  let result: Result<ChurnReport>;
  try {
    const plan: Result<RehearsalPlan> = rehearsalPlanFromEnv() ?? {
      ok: false,
      error: socketError('safebind', 22, { detail: `no ${REHEARSAL_ENV} plan` }),
    };
    const onSample = live ? (s: ChurnSample) => process.stderr.write(progressLine(s)) : undefined;
    result = plan.ok
      ? await runRehearsal(plan.value, { signal: ac.signal, ...(onSample ? { onSample } : {}) })
      : plan;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (live) process.stderr.write('\r\x1b[2K');
  if (!result.ok) process.stderr.write(`safebind: bench churn rehearsal refused: ${result.error.message}\n`);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exitCode = result.ok ? 0 : 1;
}
