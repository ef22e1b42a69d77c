// Prints a Diagnosis for a person under pressure: what is wrong in words, the facts read from the
// host, then the fixes with their commands on lines of their own, ready to paste.
import type { Diagnosis } from '../../types.js';
import { printableDeep } from '../../diagnose/shell.js';
import type { Colours } from './colour.js';

/** `address-not-local (EADDRNOTAVAIL)`: the stable identifier, and the errno it explains. */
export function causeText(c: Colours, d: Diagnosis): string {
  return `${c.red(d.cause)}${d.code ? c.dim(` (${d.code})`) : ''}`;
}

/**
 * The lines of a diagnosis, each prefixed by `indent`. Commands are printed without decoration so
 * a triple-click copies exactly the command.
 */
export function formatDiagnosis(
  c: Colours,
  diagnosis: Diagnosis,
  indent = '    ',
  withCause = true,
): string[] {
  // Host-supplied names (interfaces, process commands) print with their control characters escaped.
  const d = printableDeep(diagnosis);
  const lines: string[] = [];
  if (withCause) lines.push(`${indent}${c.bold('cause')}  ${causeText(c, d)}`);
  lines.push(`${indent}${d.summary}`);
  if (d.details.length > 0) {
    lines.push(`${indent}${c.bold('evidence')}`);
    for (const line of d.details) lines.push(`${indent}  ${c.dim(line)}`);
  }
  if (d.remediation.length > 0) {
    lines.push(`${indent}${c.bold('fix')}`);
    d.remediation.forEach((fix, i) => {
      lines.push(`${indent}  ${i + 1}. ${fix.title}`);
      for (const command of fix.commands ?? []) lines.push(`${indent}       ${c.cyan(command)}`);
      if (fix.option !== undefined) lines.push(`${indent}       ${c.dim('in code:')} ${c.cyan(fix.option)}`);
      if (fix.warning !== undefined) lines.push(`${indent}       ${c.yellow(`⚠ ${fix.warning}`)}`);
    });
  }
  return lines;
}
