// The sysctls that decide how long a TIME_WAIT socket blocks its port, read synchronously for the
// calling thread's network namespace (see sysctls.ts for why synchronously).
import { readFileSync } from 'node:fs';
import type { TimeWaitSettings } from '../model/time-wait.js';

function readInt(name: string, unreadable: Record<string, string>): number | 'absent' | undefined {
  try {
    const n = Number.parseInt(readFileSync('/proc/sys/' + name.replaceAll('.', '/'), 'utf8').trim(), 10);
    if (Number.isInteger(n)) return n;
    unreadable[name] = 'not an integer';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    // /proc/sys/net/ipv4 readable but the file missing: the kernel has no such sysctl.
    if (
      code === 'ENOENT' &&
      name.endsWith('tcp_tw_reuse_delay') &&
      readInt('net.ipv4.tcp_tw_reuse', {}) !== undefined
    )
      return 'absent';
    unreadable[name] = code;
  }
  return undefined;
}

/** tcp_tw_reuse, tcp_tw_reuse_delay and tcp_timestamps; what could not be read is named in `unreadable`. */
export function readTimeWaitSettings(): TimeWaitSettings & { unreadable: Record<string, string> } {
  const unreadable: Record<string, string> = {};
  const twReuse = readInt('net.ipv4.tcp_tw_reuse', unreadable);
  const reuseDelayMs = readInt('net.ipv4.tcp_tw_reuse_delay', unreadable);
  const timestamps = readInt('net.ipv4.tcp_timestamps', unreadable);
  const out: TimeWaitSettings & { unreadable: Record<string, string> } = { unreadable };
  if (typeof twReuse === 'number') out.twReuse = twReuse;
  if (reuseDelayMs !== undefined) out.reuseDelayMs = reuseDelayMs;
  if (typeof timestamps === 'number') out.timestamps = timestamps;
  return out;
}
