// What safebind/register costs while nothing fails (issue 14): an http server and an undici client in
// one process, the client (a) on keep-alive connections and (b) on a new connection per request
// (`connection: close`), run as `node app` and as `node --import safebind/register app`, in
// interleaved rounds (off, on, off, on…) so the machine's load falls on both alike. Each round is a
// fresh child: the hook is a process-wide preload, measured exactly as users load it. The figure is
// the ratio of the medians of requests per second, on / off; the aim is ≥ 0.98×.
//
//   npx tsup && node bench/register-overhead.mjs [ROUNDS=8] [SECONDS=2]
//
// Runs in a private network namespace (bench/netns.mjs), so the TIME_WAIT sockets of the
// per-request connections stay out of the host's tables.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { enterPrivateNetns } from './netns.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (process.argv[2] === '--child') {
  await child(process.argv[3], Number(process.argv[4]));
} else {
  enterPrivateNetns();
  main(Number(process.argv[2] ?? 8), Number(process.argv[3] ?? 2));
}

/** One round: requests for `seconds` after a warm-up, 16 at a time; prints requests per second. */
async function child(mode, seconds) {
  const http = await import('node:http');
  const { Agent, request } = await import('undici');
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const agent = new Agent({ connections: 16, pipelining: 1 });
  const headers = mode === 'close' ? { connection: 'close' } : {};
  let count = 0;
  let counting = false;
  const until = { end: performance.now() + 500 + seconds * 1000 };
  const worker = async () => {
    while (performance.now() < until.end) {
      const { body } = await request(url, { dispatcher: agent, headers });
      await body.dump();
      if (counting) count++;
    }
  };
  setTimeout(() => (counting = true), 500);
  const started = performance.now() + 500;
  await Promise.all(Array.from({ length: 16 }, worker));
  const elapsed = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ rate: count / elapsed })}\n`);
  await agent.close();
  server.close();
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function round(mode, hook, seconds) {
  const args = [
    ...(hook ? ['--import', 'safebind/register'] : []),
    fileURLToPath(import.meta.url),
    '--child',
    mode,
    String(seconds),
  ];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`round ${mode} hook=${hook} failed: ${r.stderr}`);
  if (r.stderr !== '') throw new Error(`the hook printed while nothing failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()).rate;
}

function main(rounds, seconds) {
  readFileSync(join(root, 'dist', 'register.js')); // built?
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(
    `Node ${process.version}, ${rounds} interleaved rounds of ${seconds} s per variant, load average ${load}`,
  );
  console.log(
    '| client | off (req/s, median) | on (req/s, median) | ratio on/off | rounds on/off (min–max ratio of pairs) |',
  );
  console.log('| --- | ---: | ---: | ---: | --- |');
  for (const mode of ['keep-alive', 'close']) {
    const off = [];
    const on = [];
    for (let i = 0; i < rounds; i++) {
      // Alternate which goes first, so neither always runs on a warmer or colder machine.
      if (i % 2 === 0) {
        off.push(round(mode, false, seconds));
        on.push(round(mode, true, seconds));
      } else {
        on.push(round(mode, true, seconds));
        off.push(round(mode, false, seconds));
      }
    }
    const pairs = on.map((r, i) => r / off[i]);
    const label = mode === 'close' ? 'undici, a connection per request' : 'undici, keep-alive';
    console.log(
      `| ${label} | ${median(off).toFixed(0)} | ${median(on).toFixed(0)} | ${(median(on) / median(off)).toFixed(3)}× | ${Math.min(...pairs).toFixed(3)}–${Math.max(...pairs).toFixed(3)} |`,
    );
  }
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}
