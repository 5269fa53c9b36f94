// The station's record (SQLite): filters and paging against a brute-force filter of the same rows,
// CSV quoting, labels, image retention, and a writer killed with SIGKILL mid-stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { tempDir, REPO } from './helpers.js';
import { ResultStore, type ResultRow } from '../src/server/record/store.js';
import { parseFilter, toCsv } from '../src/server/record/routes.js';

function row(i: number, o: Partial<ResultRow> = {}): ResultRow {
  return {
    id: `id-${i}`,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    station: 'st',
    camera: i % 2 ? 'top' : 'side',
    source: `part/${i}.png`,
    model_name: i % 3 === 0 ? 'tire' : 'screw',
    model_version: 'v1',
    model_id: 'abc',
    threshold: 1,
    min_area: null,
    score: i / 10,
    normalized: 0.5,
    verdict: i / 10 > 1 ? 'fail' : 'pass',
    regions: i % 4 === 0 ? [{ area: 3, box: { x: 1, y: 2, width: 3, height: 1 } }] : null,
    label: null,
    image_path: `/x/${i}.png`,
    heatmap_path: `/x/${i}_h.png`,
    ...o,
  };
}

test('the record filters by time, model and verdict and pages like a brute-force filter', () => {
  const store = new ResultStore(tempDir('pc-rec-'));
  const rows = Array.from({ length: 40 }, (_, i) => row(i));
  for (const r of rows) assert.equal(store.insert(r, `key-${r.id}`, { mqtt: false, webhook: true }), true);
  assert.equal(store.insert(row(99), 'key-id-3', { mqtt: false, webhook: false }), false, 'a source key is judged once');
  const f = parseFilter({ from: rows[5].time, to: rows[30].time, model: 'screw', verdict: 'fail', limit: '4' });
  const expected = rows.filter((r) => r.time >= rows[5].time && r.time < rows[30].time && r.model_name === 'screw' && r.verdict === 'fail').reverse();
  const got: string[] = [];
  for (let before: number | undefined; ; ) {
    const page = store.query({ ...f, before });
    got.push(...page.map((r) => r.id));
    if (page.length < f.limit) break;
    before = page.at(-1)!.seq;
  }
  assert.deepEqual(
    got,
    expected.map((r) => r.id),
  );
  assert.ok(expected.length > 4, 'the filter spans several pages');
  assert.deepEqual(store.get('id-4')!.regions, rows[4].regions);
  assert.equal(store.pending('webhook').length, 40);
  assert.equal(store.pending('mqtt').length, 0, 'no MQTT configured: nothing pending');
  store.close();
});

test('labels change, verdicts do not; retention clears the oldest files', () => {
  const store = new ResultStore(tempDir('pc-rec-'));
  for (let i = 0; i < 10; i++) store.insert(row(i), null, { mqtt: false, webhook: false });
  assert.equal(store.setLabel('id-2', 'good'), true);
  assert.equal(store.setLabel('nope', 'good'), false);
  assert.equal(store.get('id-2')!.label, 'good');
  assert.equal(store.get('id-2')!.verdict, 'pass');
  const gone = store.expireImages(3);
  assert.deepEqual(
    gone.sort(),
    Array.from({ length: 7 }, (_, i) => [`/x/${i}.png`, `/x/${i}_h.png`])
      .flat()
      .sort(),
  );
  assert.equal(store.get('id-6')!.image_path, null);
  assert.equal(store.get('id-7')!.image_path, '/x/7.png');
  assert.deepEqual(store.expireImages(3), [], 'nothing more to expire');
  store.close();
});

test('CSV quotes commas, quotes and formula starts; bad filters are one clear line', () => {
  const csv = toCsv([{ ...row(1, { source: 'a,"b".png', camera: '=cmd()' }), seq: 1 }]);
  const [head, line] = csv.trim().split('\n');
  assert.ok(head.startsWith('seq,id,time,'));
  assert.ok(line.includes('"a,""b"".png"'), line);
  assert.ok(line.includes('"=cmd()"'), line);
  assert.throws(() => parseFilter({ verdict: 'maybe' }), /Expected "pass" or "fail" for verdict but received "maybe"/);
  assert.throws(() => parseFilter({ from: 'yesterday' }), /Expected an ISO 8601 time for from/);
  assert.throws(() => parseFilter({ limit: '0' }), /Expected an integer from 1 to 1000 for limit/);
});

test('a writer killed with SIGKILL loses at most the row in flight', async () => {
  const dir = tempDir('pc-rec-kill-');
  const storeJs = path.join(REPO, 'dist', 'src', 'server', 'record', 'store.js');
  const script = `
    import { ResultStore } from ${JSON.stringify(storeJs)};
    const s = new ResultStore(${JSON.stringify(dir)});
    for (let i = 0; ; i++) {
      s.insert({ id: 'r' + i, time: new Date().toISOString(), station: 's', camera: 'c', source: 'f' + i, model_name: 'm', model_version: 'v1',
        model_id: 'x', threshold: 1, min_area: null, score: i, normalized: 0.5, verdict: 'pass', regions: null, label: null, image_path: null, heatmap_path: null },
        'k' + i, { mqtt: true, webhook: false });
      process.stdout.write(i + '\\n');
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let acked = -1;
  let buf = '';
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      if (lines.length) acked = Number(lines.at(-1));
      if (acked >= 300 && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', () => resolve());
  });
  const store = new ResultStore(dir);
  assert.equal(store.db.pragma('integrity_check', { simple: true }), 'ok');
  const n = store.db.prepare('SELECT count(*) AS n, max(score) AS top FROM results').get() as { n: number; top: number };
  assert.ok(n.n >= acked + 1, `every acknowledged row survives: ${n.n} rows, ${acked + 1} acknowledged`);
  assert.equal(n.top, n.n - 1, 'rows are a gap-free prefix');
  assert.equal(store.pending('mqtt', 1e6).length, n.n, 'all still pending for MQTT after the restart');
  store.close();
});
