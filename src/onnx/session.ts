// One place that creates ONNX Runtime sessions, so device and thread choices stay consistent.
import * as ort from 'onnxruntime-node';
import { UserError } from '../util/errors.js';

/** 'webgpu' exists only in the browser page (src/web/shims/ort.ts); the CLI offers cpu and cuda. */
export type Device = 'cpu' | 'cuda' | 'webgpu';

export interface SessionOptions {
  device?: Device;
  threads?: number;
}

ort.env.logLevel = 'fatal';
const spin = process.env.PATCHCORE_ORT_SPIN === '1' ? '1' : '0';

export async function createSession(model: string | Uint8Array, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  const device = opts.device ?? 'cpu';
  const so: ort.InferenceSession.SessionOptions = {
    // WebGPU lacks some operators (TopK, integer ops): those run on the WASM backend
    executionProviders: device === 'webgpu' ? ['webgpu', 'cpu'] : [device],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.threads ?? 0,
    // errors surface as exceptions with a message; ORT's own console log would add a second, raw line
    logSeverityLevel: 4,
    // ORT's pool threads busy-wait after each run by default; between runs this pipeline does JS
    // work (decode, aggregation, maps) that the spinning threads starve on a 2-core machine.
    // Measured here: predict 124 -> 50 ms/image. PATCHCORE_ORT_SPIN=1 restores spinning.
    extra: { session: { intra_op: { allow_spinning: spin }, inter_op: { allow_spinning: spin } } },
  };
  try {
    return typeof model === 'string' ? await ort.InferenceSession.create(model, so) : await ort.InferenceSession.create(model, so);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (device === 'cuda') {
      throw new UserError(
        `--device cuda: the CUDA execution provider could not start (${msg.split('\n')[0]}). ` +
          'Install the CUDA build of onnxruntime-node (npm rebuild onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12) or use --device cpu.',
      );
    }
    throw e;
  }
}

export { ort };
