/** An error caused by the user's input: printed as one line, never with a stack. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/**
 * The one message style for bad input (as sharp's `invalidParameterError`):
 * `Expected <expected> for <name> but received <actual>`. The library passes its option names
 * (`ratio`); the CLI passes flags (`--coreset`).
 */
export function invalid(name: string, expected: string, actual: unknown): UserError {
  return new UserError(`Expected ${expected} for ${name} but received ${describe(actual)}`);
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
