// `npm run docs:options`: rewrite README.md's options tables from the commands' option tables.
// test/cli-options.test.ts fails when README.md and the tables disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { SPECS } from './commands/index.js';
import { updateReadme } from './options.js';

const file = process.argv[2] ?? 'README.md';
const before = readFileSync(file, 'utf8');
const after = updateReadme(before, SPECS);
if (after !== before) writeFileSync(file, after);
process.stdout.write(`${file}: options tables ${after === before ? 'already up to date' : 'updated'}\n`);
