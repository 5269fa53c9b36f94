// Backbone latency per image (batch 1 and 8, 224×224, CPU) and ONNX size, with random weights for the
// torchvision ResNets so no download is needed. Run: npm run bench -- backbones [--reps N]
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSession, ort } from '../../src/onnx/session.js';
import { buildResNetOnnx } from '../../src/backbone/resnet/build.js';
import { randomResNetWeights } from '../../src/backbone/resnet/random.js';
import { RESNET_CONFIGS } from '../../src/backbone/resnet/config.js';
import { backboneEntry, backboneIds } from '../../src/backbone/registry.js';
import { arg } from '../lib/args.js';

const SIZE = 224;
const reps = Number(arg('reps', '3')) || 3;

interface Candidate {
  id: string;
  bytes: () => Promise<Uint8Array>;
  params?: number;
}

async function candidates(): Promise<Candidate[]> {
  const list: Candidate[] = [];
  // inception_v3 comes from a teammate's module; benchmark it only where it exists
  if (existsSync(fileURLToPath(new URL('../../src/backbone/nsfwjs.js', import.meta.url)))) {
    await import('../../src/backbone/nsfwjs.js' as string);
    if (backboneIds().includes('inception_v3')) list.push({ id: 'inception_v3', bytes: () => backboneEntry('inception_v3').build({}) });
  }
  for (const arch of ['resnet18', 'wide_resnet50_2'] as const) {
    const built = buildResNetOnnx(arch, randomResNetWeights(RESNET_CONFIGS[arch], 1));
    list.push({ id: arch, bytes: async () => built.bytes, params: built.params });
  }
  return list;
}

/** Median milliseconds per image over `reps` runs after one warm-up. */
async function msPerImage(session: ort.InferenceSession, batch: number): Promise<number> {
  const input = new ort.Tensor('float32', new Float32Array(batch * 3 * SIZE * SIZE).fill(0.1), [batch, 3, SIZE, SIZE]);
  const feeds = { [session.inputNames[0]]: input };
  await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push((performance.now() - t0) / batch);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const rows: string[][] = [['backbone', 'ONNX MB', 'params (M)', 'ms/img b1', 'ms/img b8']];
for (const c of await candidates()) {
  const bytes = await c.bytes();
  const session = await createSession(bytes);
  const b1 = await msPerImage(session, 1);
  const b8 = await msPerImage(session, 8);
  rows.push([c.id, (bytes.length / 1e6).toFixed(1), c.params ? (c.params / 1e6).toFixed(2) : '-', b1.toFixed(1), b8.toFixed(1)]);
  await session.release();
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`input ${SIZE}×${SIZE}, CPU, median of ${reps} runs after a warm-up (params: torchvision count before BN folding)`);
for (const r of rows) console.log(`| ${r.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`);
