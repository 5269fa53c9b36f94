#!/usr/bin/env node
// patchcore CLI entry: dispatch to a command; user errors print one line and exit 2.
import { UserError, errorMessage } from '../util/errors.js';
import { COMMANDS, usage } from './commands/index.js';
import { TOOL } from '../util/version.js';

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage());
    return cmd ? 0 : 1;
  }
  if (cmd === '--version') {
    process.stdout.write(`${TOOL.name} ${TOOL.version}\n`);
    return 0;
  }
  const run = COMMANDS[cmd];
  if (!run) throw new UserError(`unknown command '${cmd}' (run 'patchcore --help')`);
  return run(rest);
}

// Ctrl-C / SIGTERM: exit normally so 'exit' handlers (temp feature files) clean up.
// `serve` installs its own graceful shutdown instead.
if (process.argv[2] !== 'serve') for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

// `patchcore predict … | head`: a closed pipe ends the program quietly, like other CLI tools.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const debug = !!process.env.PATCHCORE_DEBUG;
    if (debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    const msg = errorMessage(e).split('\n')[0];
    process.stderr.write(e instanceof UserError ? `patchcore: error: ${msg}\n` : `patchcore: internal error: ${msg} (set PATCHCORE_DEBUG=1 for details)\n`);
    process.exitCode = e instanceof UserError ? 2 : 1;
  },
);
