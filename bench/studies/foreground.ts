// --foreground off / auto / pca / range side by side on one dataset: features once (with the
// RGB-range cells), then each mode's eval runs on them with the same seeds, so the per-run
// differences against off are paired.
//   npm run bench -- foreground --data DIR [--runs 3] [--modes off,auto,pca,range] [--out FILE.json]
//   npm run bench -- foreground --synthetic DIR ...   (writes the demo's dusty set to DIR first)
import { loadDataset } from '../../src/data/dataset.js';
import { writeSyntheticDataset } from '../../src/data/synthetic.js';
import { loadBackbone } from '../../src/backbone/index.js';
import { createExtractor } from '../../src/model/extract.js';
import { evaluateFeatures, extractEvalFeatures, type EvalResult, type MetricSummary } from '../../src/model/evaluate.js';
import { DEFAULT_PRESET, DEFAULT_SCORING, PRESETS } from '../../src/model/config.js';
import type { ForegroundMode } from '../../src/foreground/mask.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { fitForeground } from '../../src/foreground/fit.js';
import { arg } from '../lib/args.js';

const KEYS = ['image_auroc', 'pixel_auroc', 'aupro', 'threshold_fpr', 'threshold_recall'] as const;

async function main(): Promise<void> {
  const synthetic = arg('synthetic', '');
  const data = synthetic ? await writeSyntheticDataset(synthetic) : arg('data', '');
  const runs = Number(arg('runs', '3'));
  const modes = arg('modes', 'off,auto,range,pca').split(',') as ForegroundMode[];
  const ds = await loadDataset(data);
  const p = PRESETS[DEFAULT_PRESET];
  const ex = await createExtractor(ds.train, await loadBackbone(p.backbone), {
    preprocess: p.preprocess,
    background: null,
    featureDim: p.featureDim,
    precision: p.precision,
    foreground: 'range',
  });
  const t0 = Date.now();
  const ef = await extractEvalFeatures(ds, ex);
  const out: Record<string, unknown> = { data, runs, preset: DEFAULT_PRESET, featureSeconds: (Date.now() - t0) / 1000 };
  const results = new Map<string, EvalResult>();
  // auto is off or the PCA mask: its eval is the same as that mode's (same seeds), so it runs once
  const auto = fitForeground(ef.store, ef.images, { mode: 'auto', seed: 0 });
  const same = (m: ForegroundMode) => (m === 'auto' ? (auto?.mask === 'pca' ? 'pca' : 'off') : m);
  try {
    for (const mode of modes) {
      const t = Date.now();
      const twin = [...results.keys()].find((k) => same(k as ForegroundMode) === same(mode));
      const r = twin
        ? { ...results.get(twin)!, foreground: mode === 'auto' ? auto : results.get(twin)!.foreground }
        : await evaluateFeatures(ef, { runs, ratio: p.ratio, seed: 0, scoring: DEFAULT_SCORING, foreground: mode, foregroundRange: ex.opts.foregroundRange });
      results.set(mode, r);
      const base = results.get('off');
      const paired = (k: (typeof KEYS)[number]) => {
        const a = r.metrics[k].runs,
          b = base?.metrics[k].runs;
        if (!b || a.some((x) => x === null) || b.some((x) => x === null)) return null;
        const d = a.map((x, i) => (x as number) - (b[i] as number));
        return { mean: d.reduce((s, x) => s + x, 0) / d.length, min: Math.min(...d), max: Math.max(...d) };
      };
      const row = {
        mode,
        ...(twin ? { sameAs: twin } : {}),
        reason: r.foreground?.reason ?? 'off',
        mask: r.foreground?.mask ?? 'none',
        seconds: (Date.now() - t) / 1000,
        ...Object.fromEntries(KEYS.map((k) => [k, r.metrics[k]])),
        pairedVsOff: Object.fromEntries(KEYS.map((k) => [k, paired(k)])),
      };
      (out.modes ??= [] as unknown[]) && (out.modes as unknown[]).push(row);
      const fmt = (m: MetricSummary) => (m.mean === null ? 'n/a' : `${m.mean.toFixed(3)} ± ${m.std.toFixed(3)}`);
      process.stdout.write(
        `| ${mode} | ${row.mask} | ${KEYS.map((k) => fmt(r.metrics[k])).join(' | ')} | ${row.seconds.toFixed(0)} s |\n  ${row.reason}\n  paired vs off: ${JSON.stringify(row.pairedVsOff)}\n`,
      );
    }
  } finally {
    ef.close();
  }
  const file = arg('out', '');
  if (file) await writeFileAtomic(file, `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
