// The Prometheus text exposition format, version 0.0.4, written by hand so `safebind exporter`
// needs no client library at run time. One family per metric name: `# HELP`, `# TYPE`, then its
// samples. Escaping as the format says: in label values a backslash, a double quote and a line feed
// become \\, \" and \n; in HELP text a backslash and a line feed. Values are Go-style floats:
// NaN, +Inf, -Inf.
import { Buffer } from 'node:buffer';

/** The Content-Type of the text format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface Sample {
  /**
   * Label pairs already written by {@link renderLabels}, put before `labels`: many samples share
   * them (an exporter's namespace labels), so they are escaped once.
   */
  prefix?: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Samples in columns, for a family of thousands: `heads[i]` is sample i's text before its value,
 * `name{pairs} ` as {@link sampleHead} writes it, in UTF-8: made once and kept by the caller between
 * scrapes, and copied into the answer as bytes.
 */
export interface SampleRows {
  heads: Uint8Array[];
  values: number[];
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter' | 'untyped';
  samples: Sample[];
  /** More samples, written after `samples`. */
  rows?: SampleRows;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function escapeLabelValue(value: string): string {
  if (!/[\\"\n]/.test(value)) return value;
  return value.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'));
}

export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n'));
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const checkedNames = new Set<string>();

function checkLabelName(k: string): void {
  if (checkedNames.has(k)) return;
  if (!LABEL.test(k) || k.startsWith('__')) throw new TypeError(`invalid label name ${JSON.stringify(k)}`);
  checkedNames.add(k);
}

/** `a="x",b="y"`: label pairs escaped, for a {@link Sample}'s prefix. */
export function renderLabels(labels: Record<string, string>): string {
  let pairs = '';
  for (const k in labels) {
    checkLabelName(k);
    pairs += `${pairs ? ',' : ''}${k}="${escapeLabelValue(labels[k]!)}"`;
  }
  return pairs;
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new TypeError(`invalid metric name ${JSON.stringify(name)}`);
}

/**
 * A sample's text before its value, `name{pairs} ` (`pairs` as {@link renderLabels} writes them), in
 * UTF-8, for {@link SampleRows}. Throws a TypeError for a name the format does not allow.
 */
export function sampleHead(name: string, pairs: string): Uint8Array {
  checkName(name);
  return Buffer.from(headOf(name, pairs), 'utf8');
}

/** `name{pairs} ` for a name already checked. */
function headOf(name: string, pairs: string): string {
  return `${name}${pairs ? `{${pairs}}` : ''} `;
}

/** The longest value formatValue writes: `-1.2345678901234567e-308`. */
const MAX_VALUE_BYTES = 24;

/**
 * Writes a family's rows into `out` from `at`; returns where they end. Values that are whole numbers
 * below 2^31 (the counts) are spelled digit by digit, others through formatValue once per distinct
 * value and then copied (a column repeats them: every pool with 40 sockets has the same usage ratio).
 */
function writeRows(rows: SampleRows, out: Buffer, at: number): number {
  const spelled = new Map<number, Uint8Array>();
  let o = at;
  for (let i = 0; i < rows.heads.length; i++) {
    const head = rows.heads[i]!;
    out.set(head, o);
    o += head.length;
    const v = rows.values[i]!;
    if (v >= 0 && v <= 0x7fffffff && (v | 0) === v) {
      let digits = 1;
      for (let n = v; n >= 10; n = (n / 10) | 0) digits++;
      o += digits;
      for (let n = v, p = o; digits-- > 0; n = (n / 10) | 0) out[--p] = 48 + (n % 10);
    } else {
      let text = spelled.get(v);
      if (text === undefined) spelled.set(v, (text = Buffer.from(formatValue(v), 'latin1')));
      // At most 24 bytes: a loop costs less than a call into Buffer's copy.
      for (let k = 0; k < text.length; k++) out[o + k] = text[k]!;
      o += text.length;
    }
    out[o++] = 10;
  }
  return o;
}

/** A family's text up to its rows: HELP, TYPE and its samples. */
function familyText(f: MetricFamily): string {
  checkName(f.name);
  let text = `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
  for (const s of f.samples) {
    const own = renderLabels(s.labels);
    const pairs = s.prefix ? (own ? `${s.prefix},${own}` : s.prefix) : own;
    text += `${headOf(f.name, pairs)}${formatValue(s.value)}\n`;
  }
  return text;
}

/**
 * A whole exposition, every family in order, as the UTF-8 bytes an HTTP answer sends: rows are
 * copied in as bytes, never built as one string and encoded again (an exporter of thousands of
 * destinations writes megabytes at every scrape). Throws a TypeError for a name or label name the
 * format does not allow.
 */
export function formatExposition(families: MetricFamily[]): Buffer {
  const texts = families.map(familyText);
  let size = 0;
  families.forEach((f, i) => {
    size += Buffer.byteLength(texts[i]!, 'utf8');
    for (const head of f.rows?.heads ?? []) size += head.length + MAX_VALUE_BYTES + 1;
  });
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  families.forEach((f, i) => {
    o += out.write(texts[i]!, o, 'utf8');
    if (f.rows !== undefined) o = writeRows(f.rows, out, o);
  });
  return out.subarray(0, o);
}
