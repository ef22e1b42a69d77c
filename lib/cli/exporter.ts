// `safebind exporter`: a standalone Prometheus endpoint. GET /metrics reads the chosen network
// namespaces at that moment (each by a native thread that enters it; this process never moves) and
// answers in the text exposition format written by exposition.ts, with no client library. The
// command's definition is in commands.ts; this module is loaded only when the command runs.
import { Buffer } from 'node:buffer';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import {
  destinationLabel,
  listNetns,
  prepareDests,
  readNetns,
  type NetnsRef,
  type PreparedDests,
} from '../host/netns.js';
import { parseTarget } from '../sys/address.js';
import { exhaustionSeconds, memoryOf, type ForecastMemory } from './exporter-forecast.js';
import { SampleHeads } from './exporter-heads.js';
import { exporterFamilies, type NamespaceResult } from './exporter-metrics.js';
import { EXPOSITION_CONTENT_TYPE, formatExposition } from './exposition.js';
import { UsageError } from './usage-error.js';

export interface ExporterFlags {
  listen: string;
  netns: string[];
  dest: string[];
  top: string;
}

/** The default address: loopback only, so nothing is exposed until asked for. */
export const DEFAULT_LISTEN = '127.0.0.1:9877';
export const DEFAULT_TOP = 20;
/** Namespaces read at once: each read holds one of libuv's four pool threads while it waits. */
const PARALLEL = 2;

interface Settings {
  host: string;
  port: number;
  netns: string[];
  dests: PreparedDests;
  top: number;
  /** The previous scrape's reading of each namespace (by inode), for the exhaustion forecast. */
  memory: Map<number, ForecastMemory>;
  /** The per-destination samples' text before the value, kept between scrapes. */
  heads: SampleHeads;
}

function settingsOf(flags: ExporterFlags): Settings {
  const listen = parseTarget(flags.listen);
  if (!listen.ok) throw new UsageError(`--listen ${listen.reason}`);
  if (listen.value.kind !== 'address')
    throw new UsageError(`--listen ${flags.listen}: give an IP address, not a name`);
  const seen = new Set<string>();
  const dests = flags.dest.flatMap((text) => {
    const t = parseTarget(text, 'connect');
    if (!t.ok) throw new UsageError(`--dest ${t.reason}`);
    if (t.value.kind !== 'address')
      throw new UsageError(
        `--dest ${text}: give an IP address, not a name; the socket table knows only addresses`,
      );
    if (t.value.port === 0)
      throw new UsageError(`--dest ${text}: port 0 is no destination; give the port connections go to`);
    const host = t.value.address.address;
    const label = destinationLabel(host, t.value.port);
    // The same destination twice would write each of its series twice, and Prometheus refuses a
    // scrape with duplicate series.
    if (seen.has(label)) return [];
    seen.add(label);
    return [{ host, port: t.value.port, label }];
  });
  if (!/^\d+$/.test(flags.top) || Number(flags.top) > 100_000)
    throw new UsageError(`--top ${flags.top}: expected a whole number from 0 to 100000`);
  for (const spec of flags.netns) {
    if (spec !== 'all' && !spec.startsWith('/'))
      throw new UsageError(`--netns ${spec}: expected "all" or the absolute path of a namespace file`);
  }
  return {
    host: listen.value.address.address,
    port: listen.value.port,
    netns: flags.netns,
    dests: prepareDests(dests),
    top: Number(flags.top),
    memory: new Map(),
    heads: new SampleHeads(),
  };
}

async function readAll(namespaces: NetnsRef[], s: Settings): Promise<NamespaceResult[]> {
  const results: NamespaceResult[] = new Array(namespaces.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < namespaces.length; i = next++) {
      const ns = namespaces[i]!;
      const before = s.memory.get(ns.inode);
      const r = await readNetns(ns.paths, s.dests, s.top, before?.walkMs);
      if (!r.ok) {
        s.memory.delete(ns.inode);
        results[i] = { ns, reading: { error: r.error.message } };
        continue;
      }
      const exhaustion = exhaustionSeconds(before, r.value);
      const now = memoryOf(r.value);
      if (now) s.memory.set(ns.inode, now);
      else s.memory.delete(ns.inode);
      results[i] = { ns, reading: r.value, exhaustion };
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  return results;
}

/** One scrape's exposition, as the bytes to send. */
export async function scrape(s: Settings): Promise<Buffer> {
  const t0 = performance.now();
  const list = listNetns(s.netns);
  if (!list.ok) throw new Error(list.error.message);
  const results = await readAll(list.value.namespaces, s);
  // A namespace gone from the list is forgotten: its inode may name a new one later.
  const listed = new Set(list.value.namespaces.map((ns) => ns.inode));
  for (const inode of s.memory.keys()) if (!listed.has(inode)) s.memory.delete(inode);
  const body = formatExposition(exporterFamilies(results, (performance.now() - t0) / 1000, s.heads));
  s.heads.sweep();
  return body;
}

export async function exporterAction(flags: ExporterFlags): Promise<void> {
  // Handled from the start: a stop that comes while the namespaces are listed or the port is bound
  // (systemd stopping a unit that is still starting) ends it with status 0 as well.
  let stopRequested!: () => void;
  const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
  process.once('SIGTERM', stopRequested);
  process.once('SIGINT', stopRequested);
  try {
    await serve(flags, stopped);
  } finally {
    process.off('SIGTERM', stopRequested);
    process.off('SIGINT', stopRequested);
  }
  process.exitCode = 0;
}

async function serve(flags: ExporterFlags, stopped: Promise<void>): Promise<void> {
  const s = settingsOf(flags);
  // A namespace path that cannot be read is bad usage, found now rather than at the first scrape.
  const first = listNetns(s.netns);
  if (!first.ok) throw new UsageError(`--netns: ${first.error.message}`);
  if (first.value.missing.length > 0)
    throw new UsageError(`--netns ${first.value.missing[0]}: no such namespace file`);
  if (first.value.notNamespace.length > 0)
    throw new UsageError(
      `--netns ${first.value.notNamespace[0]}: not a namespace file (one is /run/netns/NAME or /proc/PID/ns/net)`,
    );
  // Concurrent scrapes share one reading.
  let pending: Promise<Buffer> | undefined;
  const metrics = () => {
    pending ??= scrape(s).finally(() => {
      pending = undefined;
    });
    return pending;
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(path === '/' ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(path === '/' ? 'safebind exporter: see /metrics\n' : 'not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`safebind exporter: ${e instanceof Error ? e.message : String(e)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new UsageError(`--listen ${flags.listen}: ${e.code ?? e.message}`)),
    );
    server.listen(s.port, s.host, () => resolve());
  });
  const addr = server.address();
  const where =
    addr && typeof addr === 'object'
      ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
      : flags.listen;
  process.stderr.write(`safebind exporter: listening on http://${where}/metrics\n`);
  await stopped;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
