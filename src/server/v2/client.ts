// A client of the Open Inference Protocol for encoded images (`predict --url`): JSON, or Triton's
// binary tensor data both ways. Works against any server whose model takes `image_bytes` BYTES [N].
import { UserError } from '../../util/errors.js';
import { HEADER_LENGTH } from './body.js';

export interface RemoteModel {
  name: string;
  version: string;
  model_id: string;
  threshold: number;
}

export interface RemoteResult {
  score: number;
  normalized: number;
  anomalous: boolean;
  threshold: number;
  modelId: string;
  modelVersion: string;
  /** [H, W] and the values, when asked for. */
  map?: { width: number; height: number; data: Float32Array };
}

interface Output {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size?: number };
}

/** A non-2xx answer from the server (the message is its {"error"}). */
export class RemoteError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

export class InferenceClient {
  private readonly base: string;
  constructor(
    url: string,
    readonly modelName: string,
    private readonly o: { token?: string; binary?: boolean } = {},
  ) {
    this.base = `${url.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(modelName)}`;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}), ...extra };
  }

  /** The model's metadata; a UserError when the server cannot be reached or does not serve it. */
  async metadata(): Promise<RemoteModel> {
    let res: Response;
    try {
      res = await fetch(this.base, { headers: this.headers() });
    } catch (e) {
      throw new UserError(`cannot reach ${this.base}: ${(e as Error).cause ?? (e as Error).message}`);
    }
    const body = (await res.json().catch(() => ({}))) as { error?: string; versions?: string[]; parameters?: { model_id?: string; threshold?: number } };
    if (!res.ok) throw new UserError(`${this.base}: ${res.status} ${body.error ?? res.statusText}`);
    return {
      name: this.modelName,
      version: body.versions?.[0] ?? '',
      model_id: body.parameters?.model_id ?? '',
      threshold: body.parameters?.threshold ?? Number.NaN,
    };
  }

  /** Score one encoded image (PNG, JPEG, ...). */
  async infer(image: Uint8Array, o: { map?: boolean } = {}): Promise<RemoteResult> {
    const names = ['score', 'normalized', 'anomalous', ...(o.map ? ['anomaly_map'] : [])];
    const binary = this.o.binary === true;
    const input = { name: 'image_bytes', datatype: 'BYTES', shape: [1] };
    const request = {
      inputs: [binary ? { ...input, parameters: { binary_data_size: 4 + image.length } } : { ...input, data: [Buffer.from(image).toString('base64')] }],
      outputs: names.map((name) => ({ name, parameters: { binary_data: binary } })),
    };
    const json = Buffer.from(JSON.stringify(request));
    let body: Buffer = json;
    const headers = this.headers({ 'content-type': binary ? 'application/octet-stream' : 'application/json' });
    if (binary) {
      const len = Buffer.alloc(4);
      len.writeUInt32LE(image.length);
      body = Buffer.concat([json, len, image]);
      headers[HEADER_LENGTH] = String(json.length);
    }
    const res = await fetch(`${this.base}/infer`, { method: 'POST', headers, body: new Uint8Array(body) });
    const raw = Buffer.from(await res.arrayBuffer());
    return parseResponse(res.status, res.headers.get(HEADER_LENGTH), raw);
  }
}

function parseResponse(status: number, headerLength: string | null, raw: Buffer): RemoteResult {
  const jsonEnd = headerLength === null ? raw.length : Number(headerLength);
  if (!(jsonEnd > 0 && jsonEnd <= raw.length))
    throw new RemoteError(status, `bad Inference-Header-Content-Length ${headerLength} for a ${raw.length}-byte response`);
  let r: { error?: string; model_version?: string; parameters?: { model_id?: string; threshold?: number }; outputs?: Output[] };
  try {
    r = JSON.parse(raw.subarray(0, jsonEnd).toString('utf8'));
  } catch {
    throw new RemoteError(status, `HTTP ${status}: the response is not JSON`);
  }
  if (status < 200 || status > 299) throw new RemoteError(status, r.error ?? `HTTP ${status}`);
  const values = new Map<string, { shape: number[]; data: ArrayLike<number> }>();
  let at = jsonEnd;
  for (const out of r.outputs ?? []) {
    const size = out.parameters?.binary_data_size;
    if (size === undefined) {
      values.set(out.name, { shape: out.shape, data: (out.data ?? []).map(Number) });
      continue;
    }
    const bytes = raw.subarray(at, at + size);
    at += size;
    if (bytes.length !== size) throw new RemoteError(status, `output '${out.name}': binary data cut short`);
    const data = out.datatype === 'BOOL' ? Uint8Array.from(bytes) : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + size));
    values.set(out.name, { shape: out.shape, data });
  }
  const one = (name: string) => {
    const v = values.get(name);
    if (!v || v.data.length < 1) throw new RemoteError(status, `the response has no '${name}' output`);
    return Number(v.data[0]);
  };
  const map = values.get('anomaly_map');
  return {
    score: one('score'),
    normalized: one('normalized'),
    anomalous: one('anomalous') === 1,
    threshold: r.parameters?.threshold ?? Number.NaN,
    modelId: r.parameters?.model_id ?? '',
    modelVersion: r.model_version ?? '',
    ...(map ? { map: { height: map.shape[2], width: map.shape[3], data: Float32Array.from(map.data) } } : {}),
  };
}
