// The int8 graph's AveragePools run unfused (onnx/quantize.ts, unfusedPools): check on real images
// that the features equal those of the graph ONNX Runtime fuses into QLinearAveragePool, and time both.
//   npm run bench -- int8-pools --data DIR [--resize 384] [--every 3]
import onnxProto from 'onnx-proto';
import { loadDataset } from '../../src/data/dataset.js';
import { loadBackbone } from '../../src/backbone/index.js';
import { createExtractor } from '../../src/model/extract.js';
import { loadImage } from '../../src/image/load.js';
import { createSession, ort } from '../../src/onnx/session.js';
import { arg } from '../lib/args.js';

async function main(): Promise<void> {
  const data = arg('data', '../shared/datasets/mvtec3d_tire');
  const resize = Number(arg('resize', '384')),
    every = Number(arg('every', '3'));
  const ds = await loadDataset(data);
  const bb = await loadBackbone('inception_v3');
  const ex = await createExtractor(ds.train, bb, { preprocess: { resize, crop: 'none' }, background: null, featureDim: 0, precision: 'int8' });
  const unfused = ex.backbone.int8Graph!;
  const m = onnxProto.onnx.ModelProto.decode(unfused);
  const extra = m.graph!.output!.length - bb.spec.layers.length;
  m.graph!.output = m.graph!.output!.filter((o) => bb.spec.layers.includes(o.name!));
  const sessions = [await createSession(unfused), await createSession(onnxProto.onnx.ModelProto.encode(m).finish())];
  const files = [...ds.train, ...ds.test.map((t) => t.file)].filter((_, i) => i % every === 0);
  const ms = [0, 0];
  let values = 0,
    differ = 0,
    max = 0;
  for (const f of files) {
    const t = (await ex.prepare(await loadImage(f))).tensor;
    const outs = [];
    for (const [k, s] of sessions.entries()) {
      const t0 = performance.now();
      outs.push(await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', t.data, t.dims) }, [...bb.spec.layers]));
      ms[k] += performance.now() - t0;
    }
    for (const l of bb.spec.layers) {
      const a = outs[0][l].data as Float32Array,
        b = outs[1][l].data as Float32Array;
      values += a.length;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differ++, (max = Math.max(max, Math.abs(a[i] - b[i])));
    }
  }
  console.log(
    `${data} at ${resize} px: ${files.length} images, ${extra} pools unfused; ${differ} of ${values} feature values differ (max ${max}); ms an image: unfused ${(ms[0] / files.length).toFixed(1)}, fused ${(ms[1] / files.length).toFixed(1)}`,
  );
  await Promise.all(sessions.map((s) => s.release()));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
