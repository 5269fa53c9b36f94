// `predict --url URL --model-name NAME FILES...`: the same rows as local predict, scored by a server
// speaking the Open Inference Protocol. One request per file, so a file that fails (unreadable,
// not an image, refused by the server) gets its own error row and the rest go on.
import { promises as fs } from 'node:fs';
import type { InputFile } from '../../data/inputs.js';
import { scoredRow, type ResultRow } from '../../report/rows.js';
import { InferenceClient } from '../../server/v2/client.js';
import { errorMessage, UserError } from '../../util/errors.js';

interface RemoteFlags {
  url?: string;
  'model-name'?: string;
  binary?: boolean;
  token?: string;
  out?: string;
  masks?: string;
  'min-area'?: number;
  threshold?: number;
  onnx?: string;
}

/** Flags that need --url, and flags --url cannot serve; checked before anything is read. */
export function checkRemoteFlags(v: RemoteFlags): void {
  if (v.url === undefined) {
    for (const f of ['model-name', 'binary', 'token'] as const) if (v[f] !== undefined && v[f] !== false) throw new UserError(`--${f} needs --url`);
    return;
  }
  if (!/^https?:\/\/[^/\s]+/i.test(v.url)) throw new UserError(`Expected an http:// or https:// URL for --url but received ${JSON.stringify(v.url)}`);
  if (v['model-name'] === undefined) throw new UserError('--url needs --model-name NAME (the model on the server)');
  for (const f of ['out', 'masks', 'min-area', 'threshold'] as const)
    if (v[f] !== undefined) throw new UserError(`--${f} is not available with --url: the server owns the model and its thresholds`);
}

export async function predictRemote(
  url: string,
  modelName: string,
  inputs: InputFile[],
  o: { binary: boolean; token?: string },
  sink: { write(row: ResultRow): void; finish(): number },
): Promise<number> {
  const client = new InferenceClient(url, modelName, o);
  const meta = await client.metadata(); // unreachable server or unknown model: exit 2 before any row
  for (const input of inputs) {
    const t0 = performance.now();
    let row: ResultRow;
    try {
      const r = await client.infer(await fs.readFile(input.file));
      row = scoredRow(input.file, r);
    } catch (e) {
      row = {
        file: input.file,
        score: null,
        normalized: null,
        anomalous: null,
        threshold: meta.threshold,
        model_id: meta.model_id,
        ms: 0,
        error: errorMessage(e).split('\n')[0],
      };
    }
    row.ms = Math.round(performance.now() - t0);
    sink.write(row);
  }
  return sink.finish();
}
