// safebind/register's settings, parsed once from the environment: SAFEBIND_EXPLAIN (text, the
// default; json; off) and SAFEBIND_EXPLAIN_WINDOW_MS (the rate limit's window, for tests and for
// services that want a report more or less often than once a minute).
import { DEFAULT_WINDOW_MS } from './rate-limit.js';

export type ExplainMode = 'text' | 'json' | 'off';

export interface RegisterSettings {
  mode: ExplainMode;
  windowMs: number;
  /** What was set but not understood, one line each, said once on stderr. */
  warnings: string[];
}

export function registerSettings(env: NodeJS.ProcessEnv): RegisterSettings {
  const warnings: string[] = [];
  const rawMode = (env['SAFEBIND_EXPLAIN'] ?? '').trim().toLowerCase();
  let mode: ExplainMode = 'text';
  if (rawMode === 'json' || rawMode === 'off') mode = rawMode;
  else if (rawMode !== '' && rawMode !== 'text') {
    warnings.push(
      `safebind: SAFEBIND_EXPLAIN=${JSON.stringify(env['SAFEBIND_EXPLAIN'])} is not text, json or off; explaining as text`,
    );
  }
  const rawWindow = (env['SAFEBIND_EXPLAIN_WINDOW_MS'] ?? '').trim();
  let windowMs = DEFAULT_WINDOW_MS;
  if (rawWindow !== '') {
    const n = /^\d+$/.test(rawWindow) ? Number(rawWindow) : NaN;
    if (Number.isSafeInteger(n) && n > 0) windowMs = n;
    else {
      warnings.push(
        `safebind: SAFEBIND_EXPLAIN_WINDOW_MS=${JSON.stringify(rawWindow)} is not a positive number of milliseconds; using ${DEFAULT_WINDOW_MS}`,
      );
    }
  }
  return { mode, windowMs, warnings };
}
