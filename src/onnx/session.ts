// One place that creates ONNX Runtime sessions, so device and thread choices stay consistent.
import * as ort from 'onnxruntime-node';
import { UserError } from '../util/errors.js';

export type Device = 'cpu' | 'cuda';

export interface SessionOptions {
  device?: Device;
  threads?: number;
}

ort.env.logLevel = 'fatal';

export async function createSession(model: string | Uint8Array, opts: SessionOptions = {}): Promise<ort.InferenceSession> {
  const device = opts.device ?? 'cpu';
  const so: ort.InferenceSession.SessionOptions = {
    executionProviders: [device],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.threads ?? 0,
    // errors surface as exceptions with a message; ORT's own console log would add a second, raw line
    logSeverityLevel: 4,
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
