// The human form of a PreflightReport: one ✔ or ✖ line per target, and under each failure the cause
// in words, the evidence read from the host, and the fixes with commands ready to paste.
import type { Diagnosis, PreflightCheck, PreflightReport } from '../../types.js';
import { printableDeep } from '../../diagnose/shell.js';
import type { Colours } from './colour.js';
import { causeText, formatDiagnosis } from './diagnosis.js';
import { checkLine, plural } from './text.js';

/** `✔ bind 10.0.0.50:8080` / `✖ bind 10.0.0.50:8080  address-not-local (EADDRNOTAVAIL)`, then the reasons. */
export function formatCheck(c: Colours, given: PreflightCheck): string[] {
  // Targets, warnings and diagnoses may quote host-supplied text: escape its control characters.
  const check = printableDeep(given);
  const what = `${check.kind.padEnd(7)} ${c.bold(check.target)}`;
  const d = check.diagnosis;
  const lines = [checkLine(c, check.ok, d !== undefined && !check.ok ? `${what}  ${causeText(c, d)}` : what)];
  for (const w of check.warnings ?? []) lines.push(`    ${c.yellow(`⚠ ${w}`)}`);
  if (!check.ok && d !== undefined) lines.push(...formatDiagnosis(c, withFlags(d), '    ', false));
  return lines;
}

/** A fix given as a code option that preflight also takes as a flag says the flag too. */
function withFlags(d: Diagnosis): Diagnosis {
  const remediation = d.remediation.map((fix) => {
    const wait = /^waitForAddress: (\d+)$/.exec(fix.option ?? '');
    if (wait === null) return fix;
    return {
      ...fix,
      // Not a command of its own: `safebind preflight --wait 30` alone has nothing to check.
      title: `${fix.title}; here: add --wait ${Math.ceil(Number(wait[1]) / 1000)} to this preflight command`,
    };
  });
  return { ...d, remediation };
}

/**
 * Every check, then a last line that says how many passed or, when some failed, names each failing
 * target with its cause: operators read the journal's last line (`journalctl -n1`), so it must
 * stand on its own.
 */
export function formatPreflightReport(c: Colours, r: PreflightReport): string {
  const lines: string[] = [];
  for (const check of r.checks) lines.push(...formatCheck(c, check));
  const failed = printableDeep(r.checks.filter((check) => !check.ok));
  lines.push(
    '',
    failed.length === 0
      ? c.green(`preflight passed: ${plural(r.checks.length, 'check')}`)
      : c.red(
          `preflight failed: ${failed
            .map((check) => `${check.kind} ${check.target} ${check.diagnosis?.cause ?? 'failed'}`)
            .join('; ')}`,
        ),
  );
  return lines.join('\n') + '\n';
}
