// Host-supplied text on its way out of safebind: into a command a person pastes into a root shell,
// and onto a terminal. Interface names, process names and paths are chosen by whoever set up the
// host: `a$(id)` is a valid interface name, and a process can name itself with escape sequences.
// A command embeds such a value only through shellQuote; human output passes through printable.

/** Characters no POSIX shell treats specially, in any position of a word. */
const BARE = /^[A-Za-z0-9_./:@%+=,-]+$/;

/**
 * `value` as one word of a POSIX shell command: bare when it holds only `[A-Za-z0-9_./:@%+=,-]`,
 * otherwise in single quotes, each `'` written as `'\''`. Inside single quotes nothing is expanded,
 * so `a$(id)` pastes as the literal name `'a$(id)'` and runs nothing. safebind's own placeholders
 * (`<interface>`, `<gateway>`) go through it too: bare, `via <gateway> dev eth0` pasted is read as
 * redirections (`< gateway`, `> dev`); quoted, the command gets the text and refuses it.
 */
export function shellQuote(value: string | number): string {
  const text = String(value);
  if (BARE.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

// C0 controls, DEL and C1 controls (ESC among them: it starts terminal escape sequences, and C1 CSI
// does the same on terminals that honour 8-bit controls).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * `text` with every control character written as a visible escape (`\x1b`, `\x00`, `\x9b`), so
 * host-supplied names cannot move the cursor, recolour or retitle the terminal, or hide text.
 * For human output only; JSON output escapes them by itself.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A copy of `value` with {@link printable} applied to every string in it, at any depth. */
export function printableDeep<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => printableDeep(v)) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = printableDeep(v);
    return out as T;
  }
  return value;
}
