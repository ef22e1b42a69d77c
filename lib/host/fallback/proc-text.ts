// Reading the text files of /proc for the no-addon readers. /proc/thread-self/net answers for the
// network namespace of the calling thread, as netlink would (see lib/host/sysctls.ts for why every
// read here is synchronous: an asynchronous one would open the file on a libuv thread).
import { readFileSync } from 'node:fs';
import { errnoResult, type ErrorResult } from '../../sys/errors.js';

/** The text of /proc/thread-self/net/`name`, or the open failure naming the file. */
export function readProcNet(name: string): { ok: true; text: string } | ErrorResult {
  const path = `/proc/thread-self/net/${name}`;
  try {
    return { ok: true, text: readFileSync(path, 'utf8') };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return errnoResult('open', -(err.errno ?? 5), { detail: path });
  }
}

/** The non-empty lines of a /proc table, split on whitespace; `header` lines are dropped first. */
export function rows(text: string, header = 1): string[][] {
  return text
    .split('\n')
    .slice(header)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 1);
}
