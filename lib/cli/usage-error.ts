// Thrown for bad usage or an unparseable target: the CLI prints its message on one line, exits 2.
export class UsageError extends Error {
  override name = 'UsageError';
}
