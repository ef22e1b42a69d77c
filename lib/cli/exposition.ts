// The Prometheus text exposition format, version 0.0.4, written by hand so `safebind exporter`
// needs no client library at run time. One family per metric name: `# HELP`, `# TYPE`, then its
// samples. Escaping as the format says: in label values a backslash, a double quote and a line feed
// become \\, \" and \n; in HELP text a backslash and a line feed. Values are Go-style floats:
// NaN, +Inf, -Inf.

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
 * `name{pairs} ` as {@link sampleHead} writes it, made once and kept by the caller between scrapes.
 */
export interface SampleRows {
  heads: string[];
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
 * A sample's text before its value: `name{pairs} `, `pairs` as {@link renderLabels} writes them. For
 * {@link SampleRows}. Throws a TypeError for a name the format does not allow.
 */
export function sampleHead(name: string, pairs: string): string {
  checkName(name);
  return headOf(name, pairs);
}

/** `name{pairs} ` for a name already checked. */
function headOf(name: string, pairs: string): string {
  return `${name}${pairs ? `{${pairs}}` : ''} `;
}

/** One family as text. Throws a TypeError for a name or label name the format does not allow. */
export function formatFamily(f: MetricFamily): string {
  checkName(f.name);
  let out = `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
  for (const s of f.samples) {
    const own = renderLabels(s.labels);
    const pairs = s.prefix ? (own ? `${s.prefix},${own}` : s.prefix) : own;
    out += `${headOf(f.name, pairs)}${formatValue(s.value)}\n`;
  }
  const rows = f.rows;
  if (rows !== undefined)
    for (let i = 0; i < rows.heads.length; i++) out += rows.heads[i]! + formatValue(rows.values[i]!) + '\n';
  return out;
}

/** A whole exposition: every family, in order. */
export function formatExposition(families: MetricFamily[]): string {
  return families.map(formatFamily).join('');
}
