// The bench scripts' shared argument parser: `--name value` pairs and bare `--flag`s. Benches take a
// few loose flags; the CLI's option table (src/cli/options.ts) is for users.

/** The value after --name in argv (the process's own by default), or def. */
export function arg(name: string, def: string, argv: readonly string[] = process.argv): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
}

/** The comma-separated values after --name, or null when --name is absent. */
export function argList(name: string, argv: readonly string[] = process.argv): string[] | null {
  const v = arg(name, '', argv);
  return v ? v.split(',') : null;
}

/** Whether the bare flag --name is present. */
export function flag(name: string, argv: readonly string[] = process.argv): boolean {
  return argv.includes(`--${name}`);
}

/** argv without the named --name value pairs (for passing the rest on to another script). */
export function withoutArgs(names: readonly string[], argv: readonly string[]): string[] {
  const drop = new Set(names.map((n) => `--${n}`));
  return argv.filter((a, i) => !drop.has(a) && !drop.has(argv[i - 1]));
}

/**
 * --name's value, else the `position`-th bare argument (0-based, after the script; for the benches
 * whose recorded commands pass values by position), else def.
 */
export function argAt(name: string, position: number, def: string, argv: readonly string[] = process.argv): string {
  const named = arg(name, '', argv);
  if (named) return named;
  const bare = argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(i > 0 && all[i - 1].startsWith('--')));
  return bare[position] ?? def;
}
