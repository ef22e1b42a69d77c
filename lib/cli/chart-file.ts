// The --chart file of `bench churn` and `bench capacity`: checked before the run, so a path that
// cannot be written is bad usage said at once rather than after minutes of measuring, and written
// after it, the report saying it was written only when it was.
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './usage-error.js';

/** Throws a UsageError when `path` cannot be written: no such directory, not writable, a directory. */
export function checkChartPath(path: string): void {
  const full = resolve(path);
  let isDirectory = false;
  try {
    isDirectory = statSync(full).isDirectory();
    accessSync(full, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new UsageError(`--chart ${path}: ${code ?? (e as Error).message}`);
    try {
      accessSync(dirname(full), constants.W_OK);
    } catch (d) {
      throw new UsageError(
        `--chart ${path}: cannot create it in ${dirname(full)} (${(d as NodeJS.ErrnoException).code ?? 'not writable'})`,
      );
    }
  }
  if (isDirectory) throw new UsageError(`--chart ${path}: is a directory; give a file name (chart.html)`);
}

/** Writes the chart; the line the report ends with, or undefined after saying on stderr why not. */
export function writeChart(path: string, html: string): string | undefined {
  try {
    writeFileSync(path, html);
    return `  chart written to ${path}\n`;
  } catch (e) {
    process.stderr.write(`safebind: cannot write the chart to ${path}: ${(e as Error).message}\n`);
    process.exitCode = 1;
    return undefined;
  }
}
