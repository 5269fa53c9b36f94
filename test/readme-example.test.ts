// The README's library example compiles against the type declarations `npm run build` emits
// (dist/src/index.d.ts, what `import … from 'patchcore-ts'` resolves to): a renamed or dropped
// export, or a changed option, fails here instead of in a user's editor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO, tempDir } from './helpers.js';

const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');

/** The ```ts block under README's "## Library" heading. */
function libraryExample(): string {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Library\n'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'README has a ```ts block under "## Library"');
  return m[1];
}

/** A project that depends on patchcore-ts (this repo, linked) and type-checks `source` strictly. */
function compile(dir: string, source: string): { status: number | null; out: string } {
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'readme-example', type: 'module', private: true }));
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
      files: ['example.ts'],
    }),
  );
  writeFileSync(path.join(dir, 'example.ts'), source);
  const r = spawnSync(process.execPath, [TSC, '-p', dir], { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('the README library example compiles against the emitted .d.ts; a name the API lacks does not', (t) => {
  assert.ok(existsSync(path.join(REPO, 'dist', 'src', 'index.d.ts')), 'npm run build emits dist/src/index.d.ts');
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  assert.equal(pkg.exports['.'].types, './dist/src/index.d.ts');
  const dir = tempDir('pc-readme-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(REPO, path.join(dir, 'node_modules', 'patchcore-ts'), 'dir');
  symlinkSync(path.join(REPO, 'node_modules', '@types', 'node'), path.join(dir, 'node_modules', '@types', 'node'), 'dir');

  const example = libraryExample();
  assert.match(example, /from 'patchcore-ts'/);
  const ok = compile(dir, example);
  assert.equal(ok.status, 0, `the README example does not compile:\n${ok.out}`);

  // the same check fails on an export the API does not have, and on a wrong option type
  const planted = compile(dir, example.replace('exportModel,', 'exportModelNope,').replace('targetFpr: 0.05', "targetFpr: '0.05'"));
  assert.notEqual(planted.status, 0);
  assert.match(planted.out, /exportModelNope/);
  assert.match(planted.out, /example\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
});
