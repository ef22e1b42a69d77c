// `safebind bench capacity`: parses the flags, runs benchCapacity() and formats the report — a table,
// `--json`, `--chart FILE`. No policy here; loaded only when the command runs.
import {
  benchCapacity,
  DEFAULT_POOL,
  MAX_CAPACITY_POOL,
  renderCapacityChartHtml,
  type CapacityReport,
} from '../bench/index.js';
import { parseHost } from '../sys/address.js';
import { coloursFor, type Colours } from './format/index.js';
import { checkChartPath, writeChart } from './chart-file.js';
import { UsageError } from './usage-error.js';

export interface CapacityFlags {
  sources: string[];
  pool?: string;
  json?: boolean;
  chart?: string;
}

/** The flags as benchCapacity() options; every bad value is a UsageError (exit 2, one line). */
export function capacityOptions(f: CapacityFlags): { pool: number; sources: string[] } {
  let pool = DEFAULT_POOL;
  if (f.pool !== undefined) {
    if (!/^\d+$/.test(f.pool.trim())) throw new UsageError(`--pool takes a whole number, not '${f.pool}'`);
    pool = Number(f.pool);
    if (pool < 1 || pool > MAX_CAPACITY_POOL)
      throw new UsageError(`--pool must be between 1 and ${MAX_CAPACITY_POOL}, not ${pool}`);
  }
  const families = new Set<number>();
  const seen = new Set<string>();
  for (const s of f.sources) {
    const parsed = parseHost(s);
    if (!parsed.ok) throw new UsageError(`--sources takes an IP address, not '${s}': ${parsed.reason}`);
    if (parsed.value.linkLocal)
      throw new UsageError(`--sources ${s}: a link-local address cannot be a source here`);
    const address = parsed.value.address;
    if (address === '0.0.0.0' || address === '::')
      throw new UsageError(
        `--sources ${s}: the wildcard is no source address; give one to add (127.0.0.11…)`,
      );
    // The private namespace's lo already has them: each source is added there, once.
    if (address === '127.0.0.1' || address === '::1')
      throw new UsageError(
        `--sources ${s}: lo already has it in the private namespace; give another (127.0.0.11…)`,
      );
    if (seen.has(address)) throw new UsageError(`--sources ${s}: given twice (each source counts once)`);
    seen.add(address);
    families.add(parsed.value.family);
  }
  if (families.size > 1) throw new UsageError('--sources must be all IPv4 or all IPv6');
  if (f.sources.length > 16) throw new UsageError('--sources: at most 16');
  return { pool, sources: f.sources };
}

const n = (x: number) => x.toLocaleString('en-US');

export function formatCapacity(r: CapacityReport, pc: Colours = coloursFor(process.stdout)): string {
  const lines = [
    pc.bold(`safebind bench capacity — pool ${n(r.pool)} ports (${r.range.join('-')}), private namespace`),
    pc.dim(`  sources ${r.sources.join(' ')}; destinations ${r.destinations.join(' ')}`),
    '',
    `  ${'approach'.padEnd(36)}${'held'.padStart(8)}${'expected'.padStart(10)}  first failure`,
  ];
  for (const a of r.approaches) {
    const f = a.firstFailure;
    const failure = f ? `${f.syscall} ${f.code}${f.cause ? ` (${f.cause})` : ''}` : 'none (cap reached)';
    const held = a.held >= a.expected ? pc.green(n(a.held).padStart(8)) : pc.yellow(n(a.held).padStart(8));
    lines.push(`  ${a.label.padEnd(36)}${held}${n(a.expected).padStart(10)}  ${failure}`);
  }
  lines.push('', pc.dim(`  measured in ${(r.durationMs / 1000).toFixed(2)} s`));
  return lines.join('\n') + '\n';
}

export async function capacityAction(f: CapacityFlags): Promise<void> {
  const options = capacityOptions(f);
  if (f.chart) checkChartPath(f.chart);
  const result = await benchCapacity(options);
  if (!result.ok) {
    process.stderr.write(`safebind: bench capacity could not run: ${result.error.message}\n`);
    process.exitCode = 1;
    return;
  }
  const written = f.chart ? writeChart(f.chart, renderCapacityChartHtml(result.value)) : undefined;
  if (f.json) process.stdout.write(JSON.stringify(result.value) + '\n');
  else process.stdout.write(formatCapacity(result.value) + (written ?? ''));
}
