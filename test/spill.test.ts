// Spill files do not outlive their process: unlinked once open on Linux, stale folders of dead
// owners removed by the next process, and nothing left after a SIGKILL mid-spill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RecordFile } from '../src/memory/record-file.js';
import { removeStaleSpills, SPILL_PREFIX } from '../src/memory/spill.js';
import { Rng } from '../src/util/rng.js';
import { tempDir } from './helpers.js';
import { ownSpillFolders } from './spill-helpers.js';

const storeModule = JSON.stringify(fileURLToPath(new URL('../src/memory/feature-store.js', import.meta.url)));
const recordModule = JSON.stringify(fileURLToPath(new URL('../src/memory/record-file.js', import.meta.url)));
/** A child that spills features (rows and projections) and eval records, then says so and waits. */
const SPILLING = `import { FeatureStore } from ${storeModule}; import { RecordFile } from ${recordModule};
  const s = new FeatureStore({ spillProjectionAbove: 10 }); s.reserve(4000);
  for (let i = 0; i < 20; i++) await s.append({ gridH: 1, gridW: 200, dim: 64, count: 200, data: new Float32Array(200 * 64).fill(i) }, { overlap: true });
  const r = new RecordFile(); r.append(new Float32Array(1 << 20));
  console.log('spilling'); setInterval(() => {}, 1000);`;
/** A child that opens a store and closes it, as the next fit would. */
const NEXT = `import { FeatureStore } from ${storeModule};
  const s = new FeatureStore(); await s.append({ gridH: 1, gridW: 2, dim: 3, count: 2, data: new Float32Array(6) }); s.close();`;

const spillFolders = (dir: string) => fs.readdirSync(dir).filter((n) => n.startsWith(SPILL_PREFIX));

function runScript(script: string, tmp: string) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('a SIGKILL while spilling leaves nothing behind on Linux, and elsewhere the next process removes it', async () => {
  const tmp = tempDir();
  const child = spawn(process.execPath, ['--input-type=module', '-e', SPILLING], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  const said = await new Promise<string>((resolve) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('spilling')) resolve(out);
    });
    child.on('exit', () => resolve(out));
  });
  const exited = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  try {
    assert.match(said, /spilling/, err);
    // while it runs its data is held by descriptors alone: on Linux they point at deleted files
    if (process.platform === 'linux') {
      const held = fs.readdirSync(`/proc/${child.pid}/fd`).map((fd) => {
        try {
          return fs.readlinkSync(`/proc/${child.pid}/fd/${fd}`);
        } catch {
          return '';
        }
      });
      assert.equal(held.filter((l) => l.includes(SPILL_PREFIX) && l.endsWith('(deleted)')).length, 3, held.join('\n'));
      assert.deepEqual(spillFolders(tmp), []);
    }
  } finally {
    child.kill('SIGKILL');
  }
  assert.equal(await exited, 'SIGKILL');
  if (process.platform === 'linux') assert.deepEqual(spillFolders(tmp), []);
  runScript(NEXT, tmp);
  assert.deepEqual(spillFolders(tmp), []);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a process that exits without close() leaves nothing behind', () => {
  const tmp = tempDir();
  runScript(
    `import { FeatureStore } from ${storeModule};
    const s = new FeatureStore(); await s.append({ gridH: 1, gridW: 2, dim: 3, count: 2, data: new Float32Array(6) }); process.exit(0);`,
    tmp,
  );
  assert.deepEqual(spillFolders(tmp), []);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('removeStaleSpills removes the folders of dead owners only', () => {
  const tmp = tempDir();
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const names = [`${SPILL_PREFIX}${dead}-abc123`, `${SPILL_PREFIX}${process.pid}-def456`, `${SPILL_PREFIX}xyz789`, 'unrelated-1'];
  for (const n of names) {
    fs.mkdirSync(path.join(tmp, n));
    fs.writeFileSync(path.join(tmp, n, 'rows.f32'), 'x');
  }
  assert.deepEqual(removeStaleSpills(tmp), [names[0]]);
  assert.deepEqual(fs.readdirSync(tmp).sort(), names.slice(1).sort()); // a live owner's, and one whose owner is unknown
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('RecordFile returns each record as appended, any order, and removes its file', () => {
  const rng = new Rng(4);
  const f = new RecordFile();
  const records = [37, 0, 1, 5000, 3].map((n) => Float32Array.from({ length: n }, () => rng.normal()));
  for (const [i, r] of records.entries()) assert.equal(f.append(r), i);
  assert.equal(f.count, records.length);
  for (const i of [3, 0, 4, 1, 2, 3]) assert.deepEqual(f.read(i), records[i]);
  assert.throws(() => f.read(5), RangeError);
  assert.throws(() => f.read(-1), RangeError);
  assert.deepEqual(ownSpillFolders(), []);
  f.close();
  f.close();
  assert.throws(() => f.read(0), /after close/);
  assert.deepEqual(ownSpillFolders(), []);
});
