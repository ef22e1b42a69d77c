// Colour for human output, through picocolors. Whether to colour is decided per stream: only a
// terminal gets escapes, and NO_COLOR (https://no-color.org) always wins. picocolors' own default
// also colours when CI is set, even into a pipe, which would put escapes into logs and files.
import pc from 'picocolors';

/** The picocolors formatters: each is the identity when colour is off. */
export type Colours = ReturnType<typeof pc.createColors>;

/** Whether text written to `stream` should carry colour escapes. */
export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** Formatters for `stream`: colour on a terminal, plain text when piped or when NO_COLOR is set. */
export function coloursFor(stream: { isTTY?: boolean }): Colours {
  return pc.createColors(colourWanted(stream));
}
