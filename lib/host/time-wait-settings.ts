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

/**
 * The same settings from files another thread read (the exporter's namespace reader): their text by
 * sysctl name, and each open's result (0 or -errno), ENOENT of tcp_tw_reuse_delay meaning absent.
 */
export function timeWaitFromFiles(
  text: Record<string, string | undefined>,
  rcs: Record<string, number>,
): TimeWaitSettings {
  const int = (name: string) => {
    const v = text[name] === undefined ? NaN : Number(text[name]);
    return Number.isInteger(v) ? v : undefined;
  };
  const out: TimeWaitSettings = {};
  const twReuse = int('net.ipv4.tcp_tw_reuse');
  const delay = int('net.ipv4.tcp_tw_reuse_delay');
  const timestamps = int('net.ipv4.tcp_timestamps');
  if (twReuse !== undefined) out.twReuse = twReuse;
  if (timestamps !== undefined) out.timestamps = timestamps;
  if (delay !== undefined) out.reuseDelayMs = delay;
  // /proc/sys/net/ipv4 readable but the file missing: the kernel (before 6.13) has no such sysctl.
  else if (twReuse !== undefined && rcs['net.ipv4.tcp_tw_reuse_delay'] === -2) out.reuseDelayMs = 'absent';
  return out;
}
