// `export --triton DIR`: a Triton model repository whose config.pbtxt (parsed here) names the ONNX
// graph's inputs and outputs with its datatypes and dims, matches serve's FP32 input, and whose
// graph runs at batch 1 and 4 with the scores of PatchCore.predict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { runCli, tempDir } from './helpers.js';
import { fitSynthetic } from './fit-fixture.js';
import { syntheticSample } from '../src/data/synthetic.js';
import { tensorMetadata } from '../src/server/v2/infer.js';

const { onnx } = onnxProto;

type Pb = { [key: string]: (string | number | Pb)[] };

/** Protobuf text format, as much as config.pbtxt uses: `key: value`, `key [ ... ]`, `key { ... }`, # comments. */
export function parsePbtxt(text: string): Pb {
  const tokens = text.replace(/#.*$/gm, '').match(/"[^"]*"|[{}[\]:,]|[^\s{}[\]:,]+/g) ?? [];
  let i = 0;
  const value = (): string | number | Pb | (string | number | Pb)[] => {
    const t = tokens[i++];
    if (t === '{') return message('}');
    if (t === '[') {
      const list: (string | number | Pb)[] = [];
      while (tokens[i] !== ']') {
        if (tokens[i] === ',') i++;
        else list.push(value() as string | number | Pb);
      }
      i++;
      return list;
    }
    if (t.startsWith('"')) return t.slice(1, -1);
    return /^-?\d+$/.test(t) ? Number(t) : t;
  };
  const message = (end: string | undefined): Pb => {
    const m: Pb = {};
    while (i < tokens.length && tokens[i] !== end) {
      const key = tokens[i++];
      if (tokens[i] === ':') i++;
      const v = value();
      (m[key] ??= []).push(...(Array.isArray(v) && tokens[i - 1] === ']' ? v : [v as string | number | Pb]));
    }
    i++;
    return m;
  };
  return message(undefined);
}

test('parsePbtxt reads scalars, lists and nested messages', () => {
  const pb = parsePbtxt('# c\nname: "x"\nmax_batch_size: 8\ninput [ { name: "a" dims: [ 3, 4 ] } ]\ndynamic_batching { }\n');
  assert.deepEqual(pb, { name: ['x'], max_batch_size: [8], input: [{ name: ['a'], dims: [3, 4] }], dynamic_batching: [{}] });
});

test('export --triton writes a repository whose config.pbtxt matches the graph and serve; the graph runs at batch 1 and 4', async () => {
  const { model, dir } = await fitSynthetic({ train: 4 });
  const modelDir = path.join(dir, 'plate-cam1');
  await model.save(modelDir);
  const repo = path.join(tempDir(), 'triton');
  const r = runCli('export', '--model', modelDir, '--triton', repo, '--max-batch', '4');
  assert.equal(r.code, 0, r.err);
  const config = parsePbtxt(await fs.readFile(path.join(repo, 'plate-cam1', 'config.pbtxt'), 'utf8'));
  const bytes = await fs.readFile(path.join(repo, 'plate-cam1', '1', 'model.onnx'));
  assert.ok((await fs.stat(path.join(repo, 'plate-cam1', '1', 'model.onnx.json'))).isFile());
  assert.deepEqual(config.platform, ['onnxruntime_onnx']);
  assert.deepEqual(config.max_batch_size, [4]);
  assert.ok(config.dynamic_batching, 'dynamic batching on');

  const graph = onnx.ModelProto.decode(bytes).graph!;
  const TYPES: Record<number, string> = {
    [onnx.TensorProto.DataType.FLOAT]: 'TYPE_FP32',
    [onnx.TensorProto.DataType.UINT8]: 'TYPE_UINT8',
    [onnx.TensorProto.DataType.BOOL]: 'TYPE_BOOL',
  };
  const dims = (v: onnxProto.onnx.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? -1 : Number(d.dimValue)));
  const type = (v: onnxProto.onnx.IValueInfoProto) => TYPES[v.type!.tensorType!.elemType!];
  const check = (entries: Pb[], values: onnxProto.onnx.IValueInfoProto[]) => {
    assert.deepEqual(
      entries.map((e) => e.name[0]),
      values.map((v) => v.name),
    );
    for (const [k, e] of entries.entries()) {
      const v = values[k];
      const [batch, ...rest] = dims(v);
      assert.equal(batch, -1, `${v.name}: dynamic batch`);
      assert.equal(e.data_type[0], type(v), `${v.name} type`);
      // Triton's dims leave out the batch; a [N] output is dims [1] reshaped to []
      const shape = e.reshape ? ((e.reshape[0] as Pb).shape ?? []) : e.dims;
      assert.deepEqual(shape, rest, `${v.name} dims`);
    }
  };
  check(config.input as Pb[], graph.input!);
  check(config.output as Pb[], graph.output!);
  // serve's outputs are the graph's, with the same datatypes
  assert.deepEqual(
    tensorMetadata(model).outputs.map((o) => [o.name, `TYPE_${o.datatype}`]),
    (config.output as Pb[]).map((o) => [o.name[0], o.data_type[0]]),
  );
  // serve's preprocessed-tensor input is the graph's input
  const serveInput = tensorMetadata(model).inputs[0];
  assert.equal(serveInput.name, (config.input[0] as Pb).name[0]);
  assert.deepEqual(serveInput.shape.slice(1), (config.input[0] as Pb).dims);
  assert.equal(`TYPE_${serveInput.datatype}`, (config.input[0] as Pb).data_type[0]);

  const session = await ort.InferenceSession.create(bytes);
  const imgs = [0, 1, 2, 3].map((i) => syntheticSample(700 + i, i % 2 ? 'scratch' : 'good', 224).image);
  const prepared = await Promise.all(imgs.map((i) => model.extractor.prepare(i)));
  const want = await Promise.all(imgs.map((i) => model.predict(i)));
  const n = prepared[0].tensor.data.length;
  const batch4 = new Float32Array(4 * n);
  prepared.forEach((p, i) => batch4.set(p.tensor.data, i * n));
  const run = async (data: Float32Array, N: number) => session.run({ image: new ort.Tensor('float32', data, [N, 3, 224, 224]) });
  const out4 = await run(batch4, 4);
  assert.deepEqual(out4.score.dims, [4]);
  assert.deepEqual(out4.anomaly_map.dims, [4, 1, 224, 224]);
  for (let i = 0; i < 4; i++) {
    const out1 = await run(prepared[i].tensor.data, 1);
    assert.deepEqual(out1.score.dims, [1]);
    const s1 = (out1.score.data as Float32Array)[0];
    const s4 = (out4.score.data as Float32Array)[i];
    assert.ok(Math.abs(s1 - want[i].score) <= 1e-4 * want[i].score, `batch 1, image ${i}: ${s1} vs ${want[i].score}`);
    assert.ok(Math.abs(s4 - want[i].score) <= 1e-4 * want[i].score, `batch 4, image ${i}: ${s4} vs ${want[i].score}`);
    assert.equal((out4.anomalous.data as Uint8Array)[i] === 1, s4 > model.threshold, 'anomalous = score > threshold');
  }
  await session.release();

  const bad = runCli('export', '--model', modelDir, '--triton', repo, '--name', '../up');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /Expected a model name .* for --name but received "\.\.\/up"/);
});
