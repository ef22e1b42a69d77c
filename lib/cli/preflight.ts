// `safebind preflight`: checks, before a service starts, that every address it will bind is
// bindable and every destination it will connect to has a route and free source ports. Built for
// systemd `ExecStartPre=` and container entrypoints: exit 0 all pass, 1 any fails, 2 bad usage or
// an unparseable target. Parsing and formatting only; the checks are preflight() of the api layer.
// The command's definition is in commands.ts; this module is loaded only when the command runs.
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import yoctoSpinner from 'yocto-spinner';
import { PARSED_TARGET, type ParsedBindOptions } from '../api/bind-options.js';
import { preflight, type PreflightSpec } from '../api/preflight.js';
import {
  parseDestination,
  parseDestinationPort,
  parseHost,
  parsePort,
  parseTarget,
  PORT_ZERO_DESTINATION,
  quoteValue,
  type Target,
} from '../sys/address.js';
import type { PreflightReport } from '../types.js';
import { coloursFor, formatPreflightReport, plural } from './format/index.js';
import { UsageError } from './usage-error.js';

export interface PreflightFlags {
  bind: string[];
  connect: string[];
  udp?: boolean;
  freebind?: boolean;
  wait?: string;
  probe?: boolean;
  config?: string;
  json?: boolean;
}

type BindTarget = NonNullable<PreflightSpec['bind']>[number];
type ConnectTarget = NonNullable<PreflightSpec['connect']>[number];

/** The longest --wait accepted: a day. Longer is a typo, and systemd would have given up long before. */
const MAX_WAIT_SECONDS = 86_400;

/** '30', '0.5' → milliseconds; anything else is bad usage. */
export function waitSeconds(text: string): number {
  const t = text.trim();
  if (!/^\d+(\.\d+)?$/.test(t) || Number(t) > MAX_WAIT_SECONDS) {
    throw new UsageError(`--wait takes seconds, 0 to ${MAX_WAIT_SECONDS}, not '${text}'`);
  }
  return Math.round(Number(t) * 1000);
}

/** Checks one target written as text; a bind target must be an address, a connect one may be a name. */
function checkTargetText(kind: 'bind' | 'connect', text: string, where: string): Target {
  const parsed = parseTarget(text, kind);
  if (!parsed.ok) throw new UsageError(`${where}: ${parsed.reason}`);
  if (kind === 'bind' && parsed.value.kind === 'name') {
    throw new UsageError(`${where}: "${parsed.value.host}" is a host name; a bind needs an IP address`);
  }
  if (kind === 'connect' && parsed.value.port === 0)
    throw new UsageError(`${where}: ${PORT_ZERO_DESTINATION}`);
  return parsed.value;
}

/** A target of the config file as an object: `{ "host": "10.0.0.50", "port": 8080, … }`. */
function checkTargetObject(kind: 'bind' | 'connect', value: Record<string, unknown>, where: string): void {
  if (typeof value.host !== 'string') throw new UsageError(`${where}: "host" must be a string`);
  if (typeof value.port !== 'number' && typeof value.port !== 'string') {
    throw new UsageError(`${where}: "port" must be a number`);
  }
  // The api's own checks: a connect target may name a host but not port 0; a bind needs an address.
  const port = kind === 'connect' ? parseDestinationPort(value.port) : parsePort(value.port);
  if (!port.ok) throw new UsageError(`${where}: ${port.reason}`);
  const host = kind === 'connect' ? parseDestination(value.host) : parseHost(value.host);
  if (!host.ok) throw new UsageError(`${where}: ${host.reason}`);
}

interface ConfigTargets {
  bind: Array<string | Record<string, unknown>>;
  connect: Array<string | Record<string, unknown>>;
}

/** A preflight config lists a few targets; a bigger file is a mistake (a log, a disk image). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

function fileKind(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The text of a config file: a regular file of at most {@link MAX_CONFIG_BYTES}. Opened with
 * O_NONBLOCK, so a FIFO is refused at once instead of waiting for a writer, and read up to the cap
 * only, so /dev/zero or a file that grows cannot exhaust memory.
 */
function readConfigText(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
  } catch (e) {
    throw new UsageError(`--config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UsageError(`--config ${file} is ${fileKind(st)}; give a regular file`);
    const tooBig = `--config ${file} is larger than ${MAX_CONFIG_BYTES} bytes, the most a config file may have`;
    if (st.size > MAX_CONFIG_BYTES) throw new UsageError(tooBig);
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > MAX_CONFIG_BYTES) throw new UsageError(tooBig);
    }
    return buffer.subarray(0, length).toString('utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/** Reads `{ "bind": [...], "connect": [...] }`; every problem with the file is bad usage (exit 2). */
export function readConfig(file: string): ConfigTargets {
  const text = readConfigText(file);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config ${file} is not JSON: ${(e as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`--config ${file} must hold an object: { "bind": [...], "connect": [...] }`);
  }
  const o = data as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => k !== 'bind' && k !== 'connect');
  if (extra.length > 0) {
    throw new UsageError(
      `--config ${file}: unknown key ${quoteValue(extra[0] ?? '')} (expected "bind", "connect")`,
    );
  }
  const out: ConfigTargets = { bind: [], connect: [] };
  for (const kind of ['bind', 'connect'] as const) {
    const list = o[kind];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new UsageError(`--config ${file}: "${kind}" must be an array`);
    list.forEach((item: unknown, i) => {
      const where = `--config ${file}: ${kind}[${i}]`;
      if (typeof item === 'string') {
        checkTargetText(kind, item, where);
        out[kind].push(item);
      } else if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
        checkTargetObject(kind, item as Record<string, unknown>, where);
        out[kind].push(item as Record<string, unknown>);
      } else {
        throw new UsageError(`${where} must be "HOST:PORT" or { "host": …, "port": … }`);
      }
    });
  }
  return out;
}

/** Flags and config file → preflight() options. Every bad value is a UsageError (exit 2, one line). */
export function preflightOptions(f: PreflightFlags): PreflightSpec {
  // The flag's value is repeated in the reason: cut it short here, the reason quotes it again.
  const shown = (t: string) => (t.length > 64 ? `${t.slice(0, 64)}…` : t);
  // Parsed here once: the parsed --bind targets go down to the bind as they are.
  const parsedBind = new Map<string, Target>();
  for (const t of f.bind) parsedBind.set(t, checkTargetText('bind', t, `--bind ${shown(t)}`));
  for (const t of f.connect) checkTargetText('connect', t, `--connect ${shown(t)}`);
  const config = f.config !== undefined ? readConfig(f.config) : { bind: [], connect: [] };
  const protocol = f.udp ? 'udp' : undefined;
  const bind: BindTarget[] = [...f.bind, ...config.bind].map((t) => {
    const parsed = typeof t === 'string' ? parsedBind.get(t) : undefined;
    const plain = typeof t === 'string' && !f.udp && !f.freebind;
    if (parsed?.kind === 'address') {
      const target: ParsedBindOptions = { host: parsed.host, port: parsed.port };
      // A plain target keeps the text it was written as for its label, as a string target would.
      target[PARSED_TARGET] = plain ? { host: parsed.address, label: t as string } : { host: parsed.address };
      if (protocol !== undefined) target.protocol = protocol;
      if (f.freebind) target.freebind = true;
      return target;
    }
    if (plain) return t;
    const base: Record<string, unknown> =
      typeof t === 'string' ? targetObject('bind', t) : { ...t, port: Number((t as { port: unknown }).port) };
    if (protocol !== undefined) base.protocol = protocol;
    if (f.freebind) base.freebind = true;
    return base as unknown as BindTarget;
  });
  const connect: ConnectTarget[] = [...f.connect, ...config.connect].map((t) => {
    if (typeof t === 'string' && !f.udp) return t;
    const base: Record<string, unknown> =
      typeof t === 'string'
        ? targetObject('connect', t)
        : { ...t, port: Number((t as { port: unknown }).port) };
    if (protocol !== undefined) base.protocol = protocol;
    return base as unknown as ConnectTarget;
  });
  if (bind.length === 0 && connect.length === 0) {
    throw new UsageError('nothing to check: give --bind HOST:PORT, --connect HOST:PORT or --config FILE');
  }
  if (f.freebind && bind.length === 0)
    throw new UsageError('--freebind applies to --bind targets; none given');
  const options: PreflightSpec = { bind, connect };
  if (f.wait !== undefined) options.wait = waitSeconds(f.wait);
  if (f.probe) options.probe = true;
  return options;
}

/** 'host:port' / '[v6%if]:port' → { host, port }, for targets that need options added. */
function targetObject(kind: 'bind' | 'connect', text: string): { host: string; port: number } {
  const parsed = parseTarget(text, kind);
  if (!parsed.ok) throw new UsageError(parsed.reason);
  return { host: parsed.value.host, port: parsed.value.port };
}

/** A spinner on stderr while the checks run, on a terminal only: logs and pipes get no animation. */
function progress(options: PreflightSpec): { stop(): void } {
  if (process.stderr.isTTY !== true) return { stop() {} };
  const n = (options.bind?.length ?? 0) + (options.connect?.length ?? 0);
  const wait =
    options.wait !== undefined && options.wait > 0 ? `, waiting up to ${options.wait / 1000} s` : '';
  const spinner = yoctoSpinner({ text: `checking ${plural(n, 'target')}${wait}`, stream: process.stderr });
  spinner.start();
  return { stop: () => spinner.stop() };
}

export async function preflightAction(flags: PreflightFlags): Promise<void> {
  const options = preflightOptions(flags);
  const spinner = progress(options);
  let report: PreflightReport;
  try {
    report = await preflight(options);
  } catch (e) {
    // Only a --config object can carry a value of the wrong type ("freebind": "yes"): bad input.
    if (e instanceof TypeError && flags.config !== undefined)
      throw new UsageError(`--config ${flags.config}: ${e.message}`);
    throw e;
  } finally {
    spinner.stop();
  }
  if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(formatPreflightReport(coloursFor(process.stdout), report));
  process.exitCode = report.ok ? 0 : 1;
}
