// The value after --name on a bench's command line, or a default. Benches take a few loose flags;
// the CLI's option table (src/cli/options.ts) is for users.
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}
