// A Diagnosis as text for a person under pressure: what is wrong in words, the facts read from the
// host, then the fixes with their commands on lines of their own, ready to paste. Pure: the CLI
// prints it with colour (lib/cli/format), watchErrors' stderr report without.
import type { Diagnosis, Remediation } from '../types.js';
import { printableDeep } from './shell.js';

/** The styles the text uses; each is the identity when there is no colour. */
export interface Paint {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
  yellow(text: string): string;
}

const same = (text: string): string => text;

/** No colour: for logs, pipes and files. */
export const plainPaint: Paint = { bold: same, dim: same, red: same, cyan: same, yellow: same };

/** `address-not-local (EADDRNOTAVAIL)`: the stable identifier, and the errno it explains. */
export function causeText(c: Paint, d: Diagnosis): string {
  return `${c.red(d.cause)}${d.code ? c.dim(` (${d.code})`) : ''}`;
}

/** The `evidence` section: each detail on a line of its own, under `indent`. */
export function formatEvidence(c: Paint, details: readonly string[], indent: string): string[] {
  if (details.length === 0) return [];
  return [`${indent}${c.bold('evidence')}`, ...details.map((line) => `${indent}  ${c.dim(line)}`)];
}

/**
 * The `fix` section, numbered, most likely first. Commands are printed without decoration so a
 * triple-click copies exactly the command.
 */
export function formatFixes(c: Paint, fixes: readonly Remediation[], indent: string): string[] {
  if (fixes.length === 0) return [];
  const lines = [`${indent}${c.bold('fix')}`];
  fixes.forEach((fix, i) => {
    lines.push(`${indent}  ${i + 1}. ${fix.title}`);
    for (const command of fix.commands ?? []) lines.push(`${indent}       ${c.cyan(command)}`);
    if (fix.option !== undefined) lines.push(`${indent}       ${c.dim('in code:')} ${c.cyan(fix.option)}`);
    if (fix.warning !== undefined) lines.push(`${indent}       ${c.yellow(`⚠ ${fix.warning}`)}`);
  });
  return lines;
}

/** The lines of a diagnosis, each prefixed by `indent`: cause, summary, evidence, every fix. */
export function formatDiagnosis(c: Paint, diagnosis: Diagnosis, indent = '    ', withCause = true): string[] {
  // Host-supplied names (interfaces, process commands) print with their control characters escaped.
  const d = printableDeep(diagnosis);
  const lines: string[] = [];
  if (withCause) lines.push(`${indent}${c.bold('cause')}  ${causeText(c, d)}`);
  lines.push(`${indent}${d.summary}`);
  lines.push(...formatEvidence(c, d.details, indent));
  lines.push(...formatFixes(c, d.remediation, indent));
  return lines;
}
