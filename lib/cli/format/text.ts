// Small text helpers shared by the commands' human output: numbers, plurals, percentages, bars,
// aligned label columns and the ✔/✖ result lines.
import { formatPercent } from '../../model/index.js';
import type { Colours } from './colour.js';

/** 28232 → '28,232': grouping makes port counts readable at a glance. */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${count(n)} ${n === 1 ? word : many}`;
}

/**
 * 0.0312 → '3.1%', 0.5 → '50%', 0.996 → '>99%': lib/model's one percent rule, with one decimal only
 * below 10%, where it carries information.
 */
export function percent(fraction: number): string {
  return formatPercent(fraction, fraction > 0 && fraction < 0.1 ? 1 : 0);
}

/**
 * A usage bar: `███████░░░░░░░░` for 0.45 of 16. Any use at all shows at least one cell, so a pool
 * with a few sockets in it never looks empty; full is drawn only when the pool is truly full.
 */
export function bar(fraction: number, width = 20): string {
  const f = Math.min(Math.max(fraction, 0), 1);
  let filled = Math.round(f * width);
  if (f > 0 && filled === 0) filled = 1;
  if (f < 1 && filled === width) filled = width - 1;
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** The colour a usage level deserves: green with room, yellow from 50%, red from 80% (doctor warns there). */
export function usageColour(c: Colours, fraction: number): (s: string) => string {
  if (fraction >= 0.8) return c.red;
  if (fraction >= 0.5) return c.yellow;
  return c.green;
}

/** Pads `text` to `width` columns, ignoring colour escapes in the count. */
export function pad(text: string, width: number): string {
  // eslint-disable-next-line no-control-regex
  const visible = text.replace(/\x1b\[[0-9;]*m/g, '').length;
  return visible >= width ? text : text + ' '.repeat(width - visible);
}

/** A heading line for one section of a report. */
export function heading(c: Colours, title: string): string {
  return c.bold(title);
}

/** `  label        value`: the indented two-column layout every section uses. */
export function row(c: Colours, label: string, value: string, width = 28): string {
  return `  ${c.dim(pad(label, width))}${value}`;
}

/** The line that opens a check's result: `✔ bind 10.0.0.50:8080` or `✖ connect db:5432 — cause`. */
export function checkLine(c: Colours, ok: boolean, text: string): string {
  return ok ? `${c.green('✔')} ${text}` : `${c.red('✖')} ${text}`;
}
