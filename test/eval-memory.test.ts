// Eval in bounded memory, end to end on a small synthetic set: the per-run streaming pixel metrics
// equal the exact ones computed over the last run's maps (read back from disk), per defect type too,
// and nothing stays in the temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { tempDir } from './helpers.js';
import { ownSpillFolders } from './spill-helpers.js';
import { writeSyntheticDataset } from '../src/data/synthetic.js';
import { loadDataset } from '../src/data/dataset.js';
import { loadBackbone } from '../src/backbone/index.js';
import { createExtractor } from '../src/model/extract.js';
import { evaluate, type MetricSummary } from '../src/model/evaluate.js';
import { DEFAULT_SCORING, PRESETS } from '../src/model/config.js';
import { pixelMetrics, type MetricValue } from '../src/metrics/index.js';

const last = (m: MetricSummary) => m.runs[m.runs.length - 1] as number;
const value = (v: MetricValue) => v.value as number;

test("eval: streaming pixel metrics equal the exact metrics of the last run's maps, pooled and per defect; no file left", async () => {
  const ds = await loadDataset(await writeSyntheticDataset(path.join(tempDir(), 'data'), { size: 160, train: 6, testGood: 3, testPerDefect: 2 }));
  const p = PRESETS.v1;
  const extractor = await createExtractor(ds.train, await loadBackbone(p.backbone), {
    preprocess: { resize: 160, crop: 128 },
    background: null,
    featureDim: p.featureDim,
    precision: p.precision,
  });
  const r = await evaluate(ds, extractor, { runs: 2, ratio: 0.2, seed: 0, scoring: DEFAULT_SCORING });
  const maps = r.tests.map((t) => t.map());
  assert.deepEqual([maps[0].width, maps[0].height], [128, 128]);
  const exact = pixelMetrics(
    maps,
    r.tests.map((t) => t.mask!),
  );
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-4, `${what}: ${a} vs exact ${b}`);
  near(last(r.metrics.pixel_auroc), value(exact.auroc), 'pixel AUROC');
  near(last(r.metrics.pixel_auroc_anomalous), value(exact.aurocAnomalous), 'pixel AUROC of defect images');
  near(last(r.metrics.aupro), value(exact.aupro), 'AUPRO');
  assert.ok(last(r.metrics.aupro) < 1 && last(r.metrics.pixel_auroc) < 1, 'an imperfect run, so the comparison means something');
  for (const [d, m] of Object.entries(r.per_defect)) {
    const idx = r.tests.map((t, i) => (t.item.label === 0 || t.item.defect === d ? i : -1)).filter((i) => i >= 0);
    const e = pixelMetrics(
      idx.map((i) => maps[i]),
      idx.map((i) => r.tests[i].mask!),
    );
    near(last(m.pixel_auroc), value(e.auroc), `${d} pixel AUROC`);
    near(last(m.aupro), value(e.aupro), `${d} AUPRO`);
  }
  r.close();
  assert.throws(() => r.tests[0].map(), /after close/);
  assert.deepEqual(ownSpillFolders(), []);
});
