// The memory stage of fit at scale: N synthetic patch rows streamed through the FeatureStore
// (projection to 128-d, full rows spilled to a temp file), the coreset, and the bank read back.
// One process per N, so that the peak RSS is this N's. No backbone: the rows are generated.
//   easy  a mixture of 64 uneven blobs on a 12-d latent space (like projected CNN features)
//   hard  i.i.d. uniform noise (no distance bound can prune)
// Usage: npm run bench -- fit-scale --data easy|hard --n 1200000 [--dim 256] [--ratio 0.01] [--method auto]
//        npm run bench -- fit-scale --curve [--sizes 150000,300000,...] [--kinds easy,hard]   (runs the above per N)
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { featureSource } from './coreset.js';
import { FeatureStore } from '../../src/memory/feature-store.js';
import { selectCoreset, type CoresetMethod } from '../../src/memory/select.js';
import { arg } from '../lib/args.js';

/** Rows of one "image" (3721 = the 61×61 grid of a 512×512 input) at a time. */
const PER_IMAGE = 3721;
/** The official greedy's cost per 128-d distance update, torch on these 2 cores (docs/RESULTS.md#against-the-pytorch-reference: 38.26 s for 171,696 × 17,169). */
const OFFICIAL_NS = 38.26e9 / (171_696 * 17_169);

/** easy: clustered low-rank features (as bench/speed/coreset.ts); hard: i.i.d. uniform noise. */
const source = (kind: string, dim: number) => featureSource(dim, kind === 'hard' ? 'uniform' : 'clustered', 1, (rng) => 0.1 * (rng.next() - 0.5));

async function one(): Promise<void> {
  const kind = arg('data', 'easy'),
    n = Number(arg('n', '150000')),
    dim = Number(arg('dim', '256'));
  const ratio = Number(arg('ratio', '0.01')),
    method = arg('method', 'auto') as CoresetMethod;
  const next = source(kind, dim);
  const store = new FeatureStore({ seed: 0 });
  store.reserve(n);
  let gen = 0;
  const t0 = performance.now();
  for (let done = 0; done < n; ) {
    const rows = Math.min(PER_IMAGE, n - done),
      g = performance.now();
    const data = next(rows);
    gen += performance.now() - g;
    await store.append({ gridH: 1, gridW: rows, dim, count: rows, data });
    done += rows;
  }
  const storeS = (performance.now() - t0 - gen) / 1000;
  const t1 = performance.now(),
    cpu = process.cpuUsage();
  const c = await selectCoreset(store, { ratio, seed: 0, method });
  const coresetS = (performance.now() - t1) / 1000;
  const u = process.cpuUsage(cpu),
    coresetCpuS = (u.user + u.system) / 1e6; // both threads
  const t2 = performance.now();
  store.rows(c.indices);
  const rowsS = (performance.now() - t2) / 1000;
  store.close();
  const count = c.indices.length;
  console.log(
    JSON.stringify({
      kind,
      n,
      dim,
      ratio,
      method: c.note,
      count,
      storeS,
      coresetS,
      coresetCpuS,
      rowsS,
      fitS: storeS + coresetS + rowsS,
      rssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      officialS: (n * count * OFFICIAL_NS) / 1e9,
    }),
  );
}

function curve(): void {
  const sizes = arg('sizes', '150000,300000,600000,1200000,2400000').split(',').map(Number);
  const rows = [
    ['data', 'N', 'bank', 'method', 'store s', 'coreset s', 'coreset CPU s', 'fit s (no backbone)', 'peak RSS MB', 'official greedy est. s', 'load'],
  ];
  for (const kind of arg('kinds', 'easy,hard').split(','))
    for (const n of sizes) {
      const extra = ['--dim', arg('dim', '256'), '--ratio', arg('ratio', '0.01'), '--method', arg('method', 'auto')];
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--data', kind, '--n', String(n), ...extra], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      const r = JSON.parse(out.trim().split('\n').at(-1)!);
      console.error(JSON.stringify(r));
      const load = os.loadavg()[0].toFixed(1);
      rows.push([
        kind,
        String(n),
        String(r.count),
        r.method,
        r.storeS.toFixed(1),
        r.coresetS.toFixed(1),
        r.coresetCpuS.toFixed(1),
        r.fitS.toFixed(1),
        String(r.rssMB),
        r.officialS.toFixed(0),
        load,
      ]);
    }
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

if (process.argv.includes('--curve')) curve();
else void one();
