// The two forms of a watchErrors report on stderr. Text, for a person reading a terminal or a
// journal: a block whose first line starts with `safebind:` and names the cause, the target and the
// summary, then the evidence, the first fix and how many more there are. JSON, for log collectors: one line per report,
// `{"safebind": Diagnosis, "target": …, "repeats": N}`.
import { formatEvidence, formatFixes, plainPaint } from '../../diagnose/format.js';
import { printableDeep } from '../../diagnose/shell.js';
import type { Diagnosis } from '../../types.js';
import type { ReportInfo } from './hub.js';

/** The text block, ending in a newline. */
export function reportText(diagnosis: Diagnosis, info: ReportInfo): string {
  const d = printableDeep(diagnosis);
  const code = d.code ? ` (${d.code})` : '';
  const lines = [`safebind: ${d.cause}${code} ${info.target}: ${d.summary}`];
  lines.push(...formatEvidence(plainPaint, d.details, '  '));
  lines.push(...formatFixes(plainPaint, d.remediation.slice(0, 1), '  '));
  // The first fix only, in a journal; the rest are a command away, not lost.
  const more = d.remediation.length - 1;
  if (more > 0)
    lines.push(
      `  (${more} more ${more === 1 ? 'fix' : 'fixes'}: the JSON report (SAFEBIND_EXPLAIN=json) and explain(err) give them all)`,
    );
  if (info.repeats > 0) {
    const times = info.repeats === 1 ? 'once more' : `${info.repeats} more times`;
    lines.push(`  repeats: the same failure happened ${times} since the last report of it`);
  }
  return `${lines.join('\n')}\n`;
}

/** The JSON line, ending in a newline. Values JSON cannot hold (a bigint) are written as strings. */
export function reportJson(diagnosis: Diagnosis, info: ReportInfo): string {
  const line = JSON.stringify(
    { safebind: diagnosis, target: info.target, repeats: info.repeats },
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
  );
  return `${line}\n`;
}
