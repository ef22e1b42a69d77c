// `npm test`'s vitest run, checked the way CI checks it: vitest 4.0.14 exits 0, printing nothing
// more, when a fork worker dies of a signal (a SIGSEGV in the addon, a SIGTERM from outside), so the
// exit code alone could report a green run that never ran some files. This runs `vitest list` and
// `vitest run` with a JSON report, then .ci/vitest-complete.mjs; skipped tests are allowed here (a
// developer's machine may lack a prerequisite, and each skip says why), not in CI.
//   node scripts/vitest-checked.mjs [vitest arguments…]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';

const args = process.argv.slice(2);
const vitest = join('node_modules', '.bin', 'vitest');
const dir = mkdtempSync(join(tmpdir(), 'safebind-vitest-'));
const list = join(dir, 'list.json');
const report = join(dir, 'report.json');
try {
  const listed = spawnSync(vitest, ['list', ...args, '--filesOnly', '--json'], { encoding: 'utf8' });
  if (listed.status !== 0) {
    process.stderr.write(listed.stderr);
    process.exit(listed.status ?? 1);
  }
  writeFileSync(list, listed.stdout);
  const run = spawnSync(
    vitest,
    ['run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    { stdio: 'inherit' },
  );
  const checked = spawnSync(
    process.execPath,
    [
      join('.ci', 'vitest-complete.mjs'),
      report,
      list,
      ...(process.env.CI === 'true' ? [] : ['--allow-skips']),
    ],
    { stdio: 'inherit' },
  );
  process.exitCode = run.status !== 0 ? (run.status ?? 1) : (checked.status ?? 1);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
