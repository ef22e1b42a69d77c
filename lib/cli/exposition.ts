// The Prometheus text exposition format, version 0.0.4, written by hand so `safebind exporter`
// needs no client library at run time. One family per metric name: `# HELP`, `# TYPE`, then its
// samples. Escaping as the format says: in label values a backslash, a double quote and a line feed
// become \\, \" and \n; in HELP text a backslash and a line feed. Values are Go-style floats:
// NaN, +Inf, -Inf.

/** The Content-Type of the text format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter' | 'untyped';
  samples: Sample[];
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

/** One family as text. Throws a TypeError for a name or label name the format does not allow. */
export function formatFamily(f: MetricFamily): string {
  if (!NAME.test(f.name)) throw new TypeError(`invalid metric name ${JSON.stringify(f.name)}`);
  let out = `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
  // Thousands of samples share a few label names: each name is checked once.
  const checked = new Set<string>();
  for (const s of f.samples) {
    let pairs = '';
    for (const k in s.labels) {
      if (!checked.has(k)) {
        if (!LABEL.test(k) || k.startsWith('__'))
          throw new TypeError(`invalid label name ${JSON.stringify(k)}`);
        checked.add(k);
      }
      pairs += `${pairs ? ',' : ''}${k}="${escapeLabelValue(s.labels[k]!)}"`;
    }
    out += `${f.name}${pairs ? `{${pairs}}` : ''} ${formatValue(s.value)}\n`;
  }
  return out;
}

/** A whole exposition: every family, in order. */
export function formatExposition(families: MetricFamily[]): string {
  return families.map(formatFamily).join('');
}
