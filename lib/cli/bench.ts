// `safebind bench churn`: parses the flags into runChurn()/rehearseChurn() options and formats the
// report — a live line on a terminal, a summary, `--json`, `--chart FILE`. No policy here.
// The command's definition is in commands.ts; this module (and the benchmark with its histograms)
// is loaded only when the command runs.
import {
  DEFAULT_POOL,
  rehearsalPlanFromEnv,
  rehearseChurn,
  renderChartHtml,
  runChurn,
  runRehearsal,
  type ChurnOptions,
  type ChurnReport,
  type ChurnSample,
} from '../bench/index.js';
import { printableDeep } from '../diagnose/shell.js';
import { parseHost, parseTarget as parseTargetText } from '../sys/address.js';
import type { Result } from '../types.js';
import { coloursFor, type Colours } from './format/index.js';
import { checkChartPath, writeChart } from './chart-file.js';
import { UsageError } from './usage-error.js';

export interface ChurnFlags {
  target?: string;
  duration?: string;
  count?: string;
  concurrency?: string;
  mode: string;
  linger0?: boolean;
  bindNoPort?: boolean;
  source: string[];
  localPortRange?: string;
  rehearse?: boolean;
  pool?: string;
  chart?: string;
  json?: boolean;
}

function integer(flag: string, text: string, lo: number, hi: number): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${flag} takes a whole number, not '${text}'`);
  const n = Number(text);
  if (n < lo || n > hi) throw new UsageError(`${flag} must be between ${lo} and ${hi}, not ${n}`);
  return n;
}

/**
 * 'HOST:PORT', '[V6]:PORT', 'name:PORT', read as preflight and doctor read targets: a host that is
 * neither an address nor a name ('999.1.1.1') is bad input (exit 2), not a failed lookup (exit 1).
 */
export function parseTarget(text: string): { host: string; port: number } {
  const portText = /:(\d+)$/.exec(text)?.[1];
  if (portText !== undefined) integer('--target port', portText, 1, 65535);
  const parsed = parseTargetText(text);
  if (!parsed.ok) throw new UsageError(`--target takes HOST:PORT or [IPV6]:PORT: ${parsed.reason}`);
  return { host: parsed.value.host, port: parsed.value.port };
}

function parseRange(text: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  if (!m || !m[1] || !m[2]) throw new UsageError(`--local-port-range takes LO-HI, not '${text}'`);
  const lo = integer('--local-port-range', m[1], 1, 65535);
  const hi = integer('--local-port-range', m[2], 1, 65535);
  if (lo > hi) throw new UsageError(`--local-port-range ${text}: LO is above HI`);
  return [lo, hi];
}

/** Turns flags into runner options; every bad value is a UsageError (exit 2, one line). */
export function churnOptions(f: ChurnFlags): ChurnOptions & { pool?: number } {
  if (f.duration !== undefined && f.count !== undefined)
    throw new UsageError(
      'give --duration or --count, not both: --duration stops after a time, --count after N connects',
    );
  if (f.pool !== undefined && !f.rehearse) throw new UsageError('--pool only applies with --rehearse');
  if (f.rehearse && f.target !== undefined)
    throw new UsageError('--rehearse runs against its own listener in a private namespace; drop --target');
  if (f.bindNoPort && f.source.length === 0)
    throw new UsageError('--bind-no-port needs --source IP (it applies to bind(source, 0))');
  if (f.mode !== 'native' && f.mode !== 'node')
    throw new UsageError(`--mode takes native or node, not '${f.mode}'`);
  const o: ChurnOptions & { pool?: number } = { mode: f.mode };
  if (f.target !== undefined) o.target = parseTarget(f.target);
  if (f.duration !== undefined) {
    const s = Number(f.duration);
    if (!/^\d*\.?\d+$/.test(f.duration.trim()) || !(s > 0))
      throw new UsageError(`--duration takes seconds (> 0), not '${f.duration}'`);
    o.durationMs = s * 1000;
  }
  if (f.count !== undefined) o.count = integer('--count', f.count, 1, Number.MAX_SAFE_INTEGER);
  if (f.concurrency !== undefined) o.concurrency = integer('--concurrency', f.concurrency, 1, 10_000);
  if (f.linger0) o.linger0 = true;
  if (f.bindNoPort) o.bindNoPort = true;
  for (const s of f.source) {
    const parsed = parseHost(s);
    if (!parsed.ok) throw new UsageError(`--source takes an IP address, not '${s}': ${parsed.reason}`);
  }
  if (f.source.length > 0) o.sources = f.source;
  if (f.localPortRange !== undefined) o.localPortRange = parseRange(f.localPortRange);
  if (f.rehearse) o.pool = f.pool !== undefined ? integer('--pool', f.pool, 1, 64_512) : DEFAULT_POOL;
  return o;
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');

function progressLine(pc: Colours, s: ChurnSample): string {
  const pool = s.poolSize > 0 ? `  pool ${(s.poolUsage * 100).toFixed(1)}%` : '';
  const errors = s.errors > 0 ? pc.red(`  errors ${n(s.errors)}`) : '';
  return (
    `\r\x1b[2K${pc.dim((s.tMs / 1000).toFixed(1).padStart(6) + ' s')}  ${n(s.connects)} connects  ` +
    `${pc.bold(n(s.ratePerSec) + '/s')}  TIME_WAIT ${n(s.timeWait)}  ESTAB ${n(s.established)}${pool}${errors}`
  );
}

/** The human report; colour only when stdout is a terminal and NO_COLOR is unset (format/colour.ts). */
export function formatReport(r: ChurnReport, pc: Colours = coloursFor(process.stdout)): string {
  const lines: string[] = [];
  const label = (t: string) => '  ' + pc.dim(t.padEnd(14));
  const opts = [
    r.options.linger0 ? 'linger0' : '',
    r.options.bindNoPort ? 'bind-no-port' : '',
    r.options.sources.length ? `sources ${r.options.sources.join(' ')}` : '',
    r.options.localPortRange ? `local port range ${r.options.localPortRange.join('-')}` : '',
  ].filter(Boolean);
  lines.push(
    pc.bold(`safebind bench churn — ${r.mode}, ${r.target}, concurrency ${r.concurrency}`) +
      (opts.length ? pc.dim(` (${opts.join(', ')})`) : ''),
  );
  if (r.rehearsal) {
    lines.push(
      label('rehearsal') +
        `private namespace, pool ${n(r.rehearsal.pool)} ports (${r.rehearsal.range.join('-')}), tcp_tw_reuse 0`,
    );
  }
  lines.push(
    label('connects') +
      `${pc.bold(n(r.connects))} in ${(r.durationMs / 1000).toFixed(2)} s = ${pc.bold(n(r.ratePerSec) + '/s')}` +
      (r.cancelled ? pc.yellow(' (interrupted)') : ''),
  );
  const l = r.latencyUs;
  lines.push(label('latency') + `p50 ${l.p50} µs  p90 ${l.p90} µs  p99 ${l.p99} µs  max ${l.max} µs`);
  const pool = !r.pool
    ? ''
    : r.pool.sources > 1
      ? `; pool ${r.pool.sources} × ${n(r.pool.poolSize / r.pool.sources)} ports (${r.pool.range.join('-')})`
      : `; pool ${n(r.pool.poolSize)} ports (${r.pool.range.join('-')})`;
  lines.push(label('TIME_WAIT') + `peak ${n(r.timeWaitPeak)} toward ${r.target}${pool}`);
  const codes = Object.entries(r.errors);
  lines.push(
    label('errors') + (codes.length ? pc.red(codes.map(([c, k]) => `${c} ${n(k)}`).join('  ')) : 'none'),
  );
  const f = r.firstFailure;
  if (f) {
    lines.push(
      label('first failure') +
        `attempt ${n(f.attempt)} at ${f.atMs} ms: ${pc.red(f.message)} (local ${f.local})`,
    );
    if (r.rehearsal?.exhaustedAt !== undefined) {
      lines.push(
        label('') +
          `the pool ran out at connect ${n(r.rehearsal.exhaustedAt)}: ${n(r.rehearsal.exhaustedAt - 1)} succeeded`,
      );
    }
    // The diagnosis quotes host-supplied names: escape their control characters for the terminal.
    const d = f.diagnosis ? printableDeep(f.diagnosis) : undefined;
    if (d) {
      lines.push(label('') + `${pc.bold(d.cause)}: ${d.summary}`);
      for (const line of d.details) lines.push(label('') + pc.dim(line));
      const fix = d.remediation[0];
      if (fix) {
        lines.push(label('fix') + fix.title);
        for (const c of fix.commands ?? []) lines.push(label('') + pc.cyan(c));
        if (fix.option) lines.push(label('') + pc.cyan(fix.option));
      }
    }
  }
  if (r.listener) {
    const same =
      r.listener.accepted === r.connects ? '(= connects)' : pc.yellow(`(connects: ${n(r.connects)})`);
    lines.push(
      label('listener') +
        `${r.listener.address}:${r.listener.port} accepted ${n(r.listener.accepted)} ${same}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** SIGINT stops the run; what was measured is still reported. */
function interruptible(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.on('SIGINT', onSigint);
  return { signal: ac.signal, dispose: () => process.off('SIGINT', onSigint) };
}

export async function churnAction(f: ChurnFlags): Promise<void> {
  const live = process.stderr.isTTY === true;
  const progressColours = coloursFor(process.stderr);
  const onSample = live
    ? (s: ChurnSample) => process.stderr.write(progressLine(progressColours, s))
    : undefined;
  const stop = interruptible();
  let result: Result<ChurnReport>;
  try {
    const plan = rehearsalPlanFromEnv();
    if (plan) {
      // The rehearsal child: it makes its namespace itself (rehearse.ts); the parent reads one
      // Result from stdout. A plan that does not check out is refused before anything is written.
      result = plan.ok
        ? await runRehearsal(plan.value, { signal: stop.signal, ...(onSample ? { onSample } : {}) })
        : plan;
      if (live) process.stderr.write('\r\x1b[2K');
      if (!result.ok)
        process.stderr.write(`safebind: bench churn rehearsal refused: ${result.error.message}\n`);
      process.stdout.write(JSON.stringify(result) + '\n');
      process.exitCode = result.ok ? 0 : 1;
      return;
    }
    const { pool, ...options } = churnOptions(f);
    if (f.chart) checkChartPath(f.chart);
    if (f.rehearse) {
      const { target: _target, ...rest } = options;
      result = await rehearseChurn({
        ...rest,
        pool: pool ?? DEFAULT_POOL,
        progress: live,
        signal: stop.signal,
      });
    } else {
      result = await runChurn({ ...options, signal: stop.signal, ...(onSample ? { onSample } : {}) });
    }
  } finally {
    stop.dispose();
  }
  if (live) process.stderr.write('\r\x1b[2K');
  if (!result.ok) {
    process.stderr.write(`safebind: bench churn could not run: ${result.error.message}\n`);
    process.exitCode = 1;
    return;
  }
  const written = f.chart ? writeChart(f.chart, renderChartHtml(result.value)) : undefined;
  if (f.json) process.stdout.write(JSON.stringify(result.value) + '\n');
  else process.stdout.write(formatReport(result.value) + (written ?? ''));
  const r = result.value;
  // Not one connection made (a target nobody listens on, a source that is not local): the figures
  // measure no churn, and a script running the bench must not take them for a result.
  if (r.connects === 0 && r.attempts > 0 && !r.cancelled) {
    const failed = Object.entries(r.errors)
      .map(([code, n]) => `${code} ×${n}`)
      .join(', ');
    process.stderr.write(
      `safebind: bench churn: no connection succeeded (${failed || `${r.attempts} attempts failed`})\n`,
    );
    process.exitCode = 1;
  }
}
