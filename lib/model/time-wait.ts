// How long a closed connection's port stays blocked toward its destination: the TIME_WAIT lifetime,
// or the shorter delay after which tcp_tw_reuse lets connect() take the port again. Pure: the
// sysctl values come in as read (undefined when they could not be).

/**
 * TCP_TIMEWAIT_LEN: 60 s, compiled into the kernel (include/net/tcp.h), no sysctl changes it.
 * Measured on 6.18: a fresh TIME_WAIT socket's timer reads 59,800 ms 200 ms after the close.
 */
export const TIME_WAIT_LEN_MS = 60_000;

/** The delay before a TIME_WAIT port can be reused when net.ipv4.tcp_tw_reuse_delay does not exist (before 6.13): one second. */
export const LEGACY_REUSE_DELAY_MS = 1_000;

export interface TimeWaitSettings {
  /** net.ipv4.tcp_tw_reuse: 0 never, 1 every outbound connection, 2 loopback only. */
  twReuse?: number;
  /** net.ipv4.tcp_tw_reuse_delay (ms, 6.13+); `absent` when the kernel has no such sysctl. */
  reuseDelayMs?: number | 'absent';
  /** net.ipv4.tcp_timestamps: reuse needs the timestamps both ends agreed on (0 = off). */
  timestamps?: number;
}

export interface TimeWaitHold {
  /** Milliseconds a new connection's TIME_WAIT blocks its port; NaN when unknown. */
  holdMs: number;
  /** Whether connect() may take a TIME_WAIT port of this destination; undefined when unknown. */
  reuse?: boolean;
  /** The rule that gave holdMs, in words, with the values read. */
  rule: string;
}

/**
 * The hold for TCP toward a destination (`loopback`: the destination or the source is 127.0.0.0/8
 * or ::1, where tcp_tw_reuse=2 applies). Reuse needs tcp_tw_reuse 1 (or 2 on loopback) and
 * timestamps; it applies to connect()'s own port choice (not to a port bound before connect).
 */
export function timeWaitHold(s: TimeWaitSettings, loopback: boolean): TimeWaitHold {
  const full = { holdMs: TIME_WAIT_LEN_MS, reuse: false };
  if (s.twReuse === undefined)
    return {
      holdMs: NaN,
      rule: 'net.ipv4.tcp_tw_reuse could not be read: whether TIME_WAIT ports are reused is unknown',
    };
  if (s.twReuse === 0 || (s.twReuse === 2 && !loopback)) {
    const why = s.twReuse === 0 ? 'tcp_tw_reuse=0' : 'tcp_tw_reuse=2 reuses loopback connections only';
    return { ...full, rule: `${why}: a port stays blocked for the whole TIME_WAIT (60 s, TCP_TIMEWAIT_LEN)` };
  }
  if (s.timestamps === undefined)
    return {
      holdMs: NaN,
      rule: 'net.ipv4.tcp_timestamps could not be read: whether TIME_WAIT ports are reused is unknown',
    };
  if (s.timestamps === 0)
    return {
      ...full,
      rule: `tcp_tw_reuse=${s.twReuse} but tcp_timestamps=0: reuse needs timestamps, so a port stays blocked for 60 s`,
    };
  if (s.reuseDelayMs === undefined)
    return {
      holdMs: NaN,
      reuse: true,
      rule: 'net.ipv4.tcp_tw_reuse_delay could not be read: the reuse delay is unknown',
    };
  const delay = s.reuseDelayMs === 'absent' ? LEGACY_REUSE_DELAY_MS : s.reuseDelayMs;
  const source =
    s.reuseDelayMs === 'absent' ? 'one second (kernels before 6.13)' : `tcp_tw_reuse_delay=${delay} ms`;
  return {
    holdMs: Math.min(delay, TIME_WAIT_LEN_MS),
    reuse: true,
    rule: `tcp_tw_reuse=${s.twReuse}${s.twReuse === 2 ? ' (loopback)' : ''}: connect() takes a TIME_WAIT port again after ${source}`,
  };
}

/** How long more a TIME_WAIT socket whose timer reads `timerMs` blocks its port under `holdMs`. */
export function blockingLeft(timerMs: number, holdMs: number): number {
  return Math.max(0, timerMs - (TIME_WAIT_LEN_MS - holdMs));
}
