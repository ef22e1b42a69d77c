// Proves a vitest run really ran every test file and passed, with nothing skipped. vitest 4 exits 0,
// printing nothing more, when a fork worker dies of a signal (a SIGSEGV in the addon, a SIGTERM from
// outside): measured 2026-12-01 with vitest 4.0.14. Its exit code alone cannot be trusted, so CI
// compares the JSON report with the files `vitest list --filesOnly --json` says the run includes.
//
//   node .ci/vitest-complete.mjs REPORT.json LIST.json [--allow-skips]
// --allow-skips (npm test on a developer's machine, scripts/vitest-checked.mjs) accepts skipped tests.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import console from 'node:console';
import process from 'node:process';

const [reportPath, listPath, flag] = process.argv.slice(2);
const allowSkips = flag === '--allow-skips';
const problems = [];
if (!reportPath || !listPath) {
  console.error('usage: node .ci/vitest-complete.mjs REPORT.json LIST.json');
  process.exit(2);
}
const listed = new Set(JSON.parse(readFileSync(listPath, 'utf8')).map((entry) => entry.file));
if (!existsSync(reportPath)) {
  problems.push('vitest wrote no JSON report: the run ended before its reporters finished');
} else {
  const report = JSON.parse(readFileSync(reportPath, 'utf8'));
  const ran = new Set(report.testResults.map((result) => result.name));
  const missing = [...listed].filter((file) => !ran.has(file));
  if (listed.size === 0) problems.push('vitest listed no test file');
  if (missing.length > 0) problems.push(`test files that never reported: ${missing.join(', ')}`);
  if (report.success !== true) problems.push('the report says the run did not succeed');
  if (report.numFailedTests > 0 || report.numFailedTestSuites > 0) {
    problems.push(
      `${report.numFailedTests} failed tests, ${report.numFailedTestSuites} failed suites (files and describe blocks)`,
    );
    // Each failed test by name with the first line of its message: a log is often read from its end.
    for (const file of report.testResults)
      for (const test of file.assertionResults ?? [])
        if (test.status === 'failed')
          problems.push(
            `failed: ${file.name.replace(`${process.cwd()}/`, '')} > ${test.fullName}: ${String(test.failureMessages?.[0] ?? '').split('\n')[0]}`,
          );
    for (const file of report.testResults)
      if (file.status === 'failed' && !(file.assertionResults ?? []).some((t) => t.status === 'failed'))
        problems.push(
          `failed file: ${file.name.replace(`${process.cwd()}/`, '')}: ${String(file.message ?? '').split('\n')[0]}`,
        );
  }
  if (!allowSkips && (report.numPendingTests > 0 || report.numTodoTests > 0))
    problems.push(`${report.numPendingTests} skipped and ${report.numTodoTests} todo tests`);
  if (problems.length === 0) {
    console.log(
      `vitest: ${ran.size} of ${listed.size} files reported, ${report.numPassedTests} passed, 0 failed, ${report.numPendingTests} skipped`,
    );
  }
}
if (problems.length > 0) {
  for (const problem of problems) console.error(`vitest run incomplete: ${problem}`);
  // .ci/run prints this file again after its timings, at the very end of the log.
  if (process.env.CI_FAILURES_FILE)
    appendFileSync(
      process.env.CI_FAILURES_FILE,
      problems.map((p) => `${process.env.CI_LINE_LABEL ?? ''}${p}\n`).join(''),
    );
  process.exit(1);
}
