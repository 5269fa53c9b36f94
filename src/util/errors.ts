/** What `invalid()` records: the option's key (`ratio`, `background.size`), what it expects, what it got. */
export interface InvalidOption {
  key: string;
  expected: string;
  actual: unknown;
}

/** An error caused by the user's input: printed as one line, never with a stack. */
export class UserError extends Error {
  /** Set by `invalid()`: a host tells the same error in its own names (the CLI in flags) from these fields. */
  readonly option?: InvalidOption;

  constructor(message: string, option?: InvalidOption) {
    super(message);
    this.name = 'UserError';
    if (option) this.option = option;
  }
}

/**
 * The one message style for bad input (as sharp's `invalidParameterError`):
 * `Expected <expected> for <key> but received <actual>`. The library passes its option keys
 * (`ratio`); the CLI passes flags (`--coreset`), and tells a library error in flags by its key.
 */
export function invalid(key: string, expected: string, actual: unknown): UserError {
  return new UserError(`Expected ${expected} for ${key} but received ${describe(actual)}`, { key, expected, actual });
}

function describe(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x);
  if (x === undefined || x === null || typeof x === 'number' || typeof x === 'boolean') return String(x);
  if (Array.isArray(x)) return `an array of ${x.length}`;
  return typeof x === 'object' ? 'an object' : String(x);
}

/** Message of any thrown value, for one-line reporting. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
