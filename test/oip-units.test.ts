// Units of the /v2 path without a model: the spec's own example requests parse as the spec says,
// tensors round-trip, and the queue hands slots to models in turn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInferBody } from '../src/server/v2/body.js';
import { bytesData, encodeOutput, fp32Data } from '../src/server/v2/tensors.js';
import { InferenceQueue } from '../src/server/queue.js';
import type { HttpError } from '../src/server/http-error.js';
import { runCli, tempDir } from './helpers.js';

// kserve/open-inference-protocol specification/protocol/inference_rest.md, "Inference Request Examples"
const SPEC_REQUEST = `{
  "id" : "42",
  "inputs" : [
    { "name" : "input0", "shape" : [ 2, 2 ], "datatype" : "UINT32", "data" : [ 1, 2, 3, 4 ] },
    { "name" : "input1", "shape" : [ 3 ], "datatype" : "BOOL", "data" : [ true ] }
  ],
  "outputs" : [ { "name" : "output0" } ]
}`;
// triton-inference-server/server docs/protocol/extension_binary_data.md, "Examples"
const SPEC_BINARY_REQUEST = `{
  "model_name" : "mymodel",
  "inputs" : [
    { "name" : "input0", "shape" : [ 2, 2 ], "datatype" : "UINT32", "parameters" : { "binary_data_size" : 16 } },
    { "name" : "input1", "shape" : [ 3 ], "datatype" : "BOOL", "parameters" : { "binary_data_size" : 3 } }
  ],
  "outputs" : [ { "name" : "output0", "parameters" : { "binary_data" : true } } ]
}`;
// the spec's example response output ("output0", [3, 2], FP32), and the binary extension's
const SPEC_OUTPUT = { name: 'output0', shape: [3, 2], datatype: 'FP32', data: [1.0, 1.1, 2.0, 2.1, 3.0, 3.1] };
const SPEC_BINARY_OUTPUT = { name: 'output0', shape: [3, 2], datatype: 'FP32', parameters: { binary_data_size: 24 } };

test("the spec's JSON example request parses: id, inputs with their data, requested outputs", () => {
  const { request, binary } = parseInferBody(Buffer.from(SPEC_REQUEST), undefined);
  assert.equal(request.id, '42');
  assert.deepEqual(
    request.inputs.map((i) => [i.name, i.datatype, i.shape]),
    [
      ['input0', 'UINT32', [2, 2]],
      ['input1', 'BOOL', [3]],
    ],
  );
  assert.deepEqual(request.outputs, [{ name: 'output0' }]);
  assert.deepEqual(binary, [null, null]);
});

test("the binary extension's example: 16 + 3 bytes after the JSON go to input0 and input1", () => {
  const head = Buffer.from(SPEC_BINARY_REQUEST);
  const data = Buffer.from([...Array(16).keys(), 1, 0, 1]);
  const { binary } = parseInferBody(Buffer.concat([head, data]), String(head.length));
  assert.deepEqual(
    binary.map((b) => [...b!]),
    [[...Array(16).keys()], [1, 0, 1]],
  );
  assert.throws(
    () => parseInferBody(Buffer.concat([head, data.subarray(0, 18)]), String(head.length)),
    (e: HttpError) => e.statusCode === 400 && /input1.*runs past the end/.test(e.message),
  );
  assert.throws(
    () => parseInferBody(Buffer.concat([head, data, data.subarray(0, 1)]), String(head.length)),
    (e: HttpError) => e.statusCode === 400 && /1 bytes after/.test(e.message),
  );
});

test("outputs are encoded as the spec's example response outputs, JSON and binary", () => {
  const data = Float32Array.from(SPEC_OUTPUT.data);
  const json = encodeOutput({ name: 'output0', datatype: 'FP32', shape: [3, 2], data }, false);
  assert.deepEqual(Object.keys(json.json).sort(), Object.keys(SPEC_OUTPUT).sort());
  assert.deepEqual(json.json.data, Array.from(data));
  const bin = encodeOutput({ name: 'output0', datatype: 'FP32', shape: [3, 2], data }, true);
  assert.deepEqual(bin.json, SPEC_BINARY_OUTPUT);
  assert.deepEqual(new Float32Array(bin.bytes!.buffer, bin.bytes!.byteOffset, 6), data);
  const bools = encodeOutput({ name: 'anomalous', datatype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) }, true);
  assert.deepEqual([...bools.bytes!], [1, 0, 1], 'BOOL: one byte per element');
  assert.deepEqual(encodeOutput({ name: 'anomalous', datatype: 'BOOL', shape: [2], data: Uint8Array.from([0, 1]) }, false).json.data, [false, true]);
});

test('tensor data: FP32 little-endian and nested JSON, BYTES length-prefixed and base64', () => {
  const input = { name: 'image', datatype: 'FP32', shape: [2, 2] };
  const le = Buffer.alloc(16);
  [1.5, -2, 3.25, 0].forEach((x, i) => le.writeFloatLE(x, 4 * i));
  assert.deepEqual(fp32Data(input, le), Float32Array.from([1.5, -2, 3.25, 0]));
  assert.deepEqual(
    fp32Data(
      {
        ...input,
        data: [
          [1.5, -2],
          [3.25, 0],
        ],
      },
      null,
    ),
    Float32Array.from([1.5, -2, 3.25, 0]),
  );
  assert.throws(() => fp32Data({ ...input, data: [1, 2, 3] }, null), /input 'image': data has 3 elements but shape \[2,2\] needs 4/);
  assert.throws(() => fp32Data(input, le.subarray(0, 12)), /input 'image': binary_data_size 12 does not match/);
  assert.throws(() => fp32Data({ ...input, data: [1, 2, 3, 'x'] }, null), /element 3 is not a finite number/);
  const nan = Buffer.from(le);
  nan.writeFloatLE(Number.NaN, 4);
  assert.throws(() => fp32Data(input, nan), /NaN/);
  const b = { name: 'image_bytes', datatype: 'BYTES', shape: [2] };
  const packed = Buffer.from([3, 0, 0, 0, 97, 98, 99, 0, 0, 0, 0]);
  assert.deepEqual(bytesData(b, packed).map(String), ['abc', '']);
  assert.deepEqual(bytesData({ ...b, data: ['YWJj', ''] }, null).map(String), ['abc', '']);
  assert.throws(() => bytesData(b, packed.subarray(0, 9)), /cut inside its 4-byte length/);
  assert.throws(() => bytesData({ ...b, shape: [1] }, packed), /holds 2 BYTES elements but shape \[1\] needs 1/);
});

test('the queue gives a freed slot to each waiting model in turn: a busy model cannot starve another', async () => {
  const q = new InferenceQueue({ concurrency: 1, queue: 10, timeoutMs: 10_000 });
  const order: string[] = [];
  let release!: () => void;
  const first = q.run(() => new Promise<void>((r) => (release = r)), 'busy');
  const jobs: Promise<void>[] = [];
  const job = (key: string, i: number) => q.run(async () => void order.push(`${key}${i}`), key);
  for (let i = 0; i < 5; i++) jobs.push(job('busy', i)); // the busy model queues five
  jobs.push(job('quiet', 0)); // then the quiet one asks once
  assert.equal(q.queued, 6);
  assert.equal(q.queuedFor('busy'), 5);
  release();
  await Promise.all([first, ...jobs]);
  assert.deepEqual(order, ['busy0', 'quiet0', 'busy1', 'busy2', 'busy3', 'busy4']);
  // each model's queue is bounded on its own
  const small = new InferenceQueue({ concurrency: 1, queue: 1, timeoutMs: 10_000 });
  let done!: () => void;
  const hold = small.run(() => new Promise<void>((r) => (done = r)), 'a');
  const a1 = small.run(async () => 1, 'a');
  await assert.rejects(
    small.run(async () => 2, 'a'),
    (e: HttpError) => e.statusCode === 503,
  );
  const b1 = small.run(async () => 3, 'b'); // another model still gets its place
  done();
  assert.deepEqual(await Promise.all([hold, a1, b1]), [undefined, 1, 3]);
});

test('CLI: the repository, --url and --triton flags are one-line errors with exit 2', () => {
  const empty = tempDir();
  const cases: [string[], RegExp][] = [
    [['serve', '--models', '/nonexistent/repo'], /\/nonexistent\/repo: not a directory/],
    [['serve', '--models', empty], /no models found \(expects DIR\/<name>\/<version>\//],
    [['serve', '--models', empty, '--model', empty], /give --model MODEL_DIR or --models DIR \(one of them\)/],
    [['serve', '--models', empty, '--threshold', '1'], /--threshold applies to --model only/],
    [['predict', '--url', 'ftp://x', '--model-name', 'm', 'a.png'], /Expected an http:\/\/ or https:\/\/ URL for --url but received "ftp:\/\/x"/],
    [['predict', '--url', 'http://127.0.0.1:9', 'a.png'], /--url needs --model-name NAME/],
    [['predict', '--url', 'http://127.0.0.1:9', '--model-name', 'm', '--out', empty, 'a.png'], /--out is not available with --url/],
    [['predict', '--model', empty, '--binary', 'a.png'], /--binary needs --url/],
    [['predict', '--url', 'http://127.0.0.1:9', '--model', empty, '--model-name', 'm', 'a.png'], /give --url or --model\/--onnx, not both/],
    [['export', '--model', empty], /give --out FILE.onnx or --triton DIR \(one of them\)/],
    [['export', '--model', empty, '--out', 'x.onnx', '--name', 'n'], /--name needs --triton/],
  ];
  for (const [args, message] of cases) {
    const r = runCli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /^patchcore: error: .+\n$/);
    assert.match(r.err, message);
  }
});
