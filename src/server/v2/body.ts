// The body of an Open Inference Protocol request: a JSON object, optionally followed by binary
// tensor data (Triton's binary_tensor_data extension: Inference-Header-Content-Length gives the
// JSON's length; each input's `binary_data_size` says how many of the following bytes are its).
import { HttpError } from '../http-error.js';

export const HEADER_LENGTH = 'inference-header-content-length';

export interface RequestInput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Record<string, unknown>;
  data?: unknown;
}

export interface RequestOutput {
  name: string;
  parameters?: Record<string, unknown>;
}

export interface InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: RequestInput[];
  outputs?: RequestOutput[];
}

/** A parsed request: the JSON part and, per input, its binary bytes (null when its data is JSON). */
export interface ParsedRequest {
  request: InferRequest;
  binary: (Buffer | null)[];
}

export const bad = (message: string) => new HttpError(400, 'bad_request', message);

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Non-negative safe integer, from a number or a decimal string (headers). */
function count(x: unknown): number | null {
  const n = typeof x === 'string' && /^[0-9]{1,15}$/.test(x) ? Number(x) : x;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

export function parseInferBody(body: Buffer, headerLength: string | string[] | undefined): ParsedRequest {
  let jsonEnd = body.length;
  if (headerLength !== undefined) {
    const n = count(Array.isArray(headerLength) ? headerLength[0] : headerLength);
    if (n === null || n === 0 || n > body.length)
      throw bad(`Inference-Header-Content-Length ${JSON.stringify(headerLength)} is not a length within the ${body.length}-byte body`);
    jsonEnd = n;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.subarray(0, jsonEnd).toString('utf8'));
  } catch (e) {
    throw bad(`request JSON is not valid: ${(e as Error).message}`);
  }
  const request = checkRequest(parsed);
  // binary parts follow the JSON in the inputs' order and must fill the rest of the body exactly
  const binary: (Buffer | null)[] = [];
  let at = jsonEnd;
  for (const input of request.inputs) {
    const size = input.parameters?.binary_data_size;
    if (size === undefined) {
      if (input.data === undefined) throw bad(`input '${input.name}' has neither data nor parameters.binary_data_size`);
      binary.push(null);
      continue;
    }
    const n = count(size);
    if (n === null) throw bad(`input '${input.name}': binary_data_size must be a non-negative integer, got ${JSON.stringify(size)}`);
    if (input.data !== undefined) throw bad(`input '${input.name}' has both data and binary_data_size`);
    if (headerLength === undefined) throw bad(`input '${input.name}' has binary_data_size but the request has no Inference-Header-Content-Length header`);
    if (at + n > body.length) throw bad(`input '${input.name}': binary_data_size ${n} runs past the end of the body (${body.length - at} bytes left)`);
    binary.push(body.subarray(at, at + n));
    at += n;
  }
  if (at !== body.length) throw bad(`the body has ${body.length - at} bytes after the JSON and the inputs' binary_data_size (${at - jsonEnd} bytes)`);
  return { request, binary };
}

function checkRequest(x: unknown): InferRequest {
  if (!isObject(x)) throw bad('request must be a JSON object');
  if (x.id !== undefined && typeof x.id !== 'string') throw bad('request id must be a string');
  if (x.parameters !== undefined && !isObject(x.parameters)) throw bad('request parameters must be an object');
  if (!Array.isArray(x.inputs) || x.inputs.length === 0) throw bad('request must have a non-empty inputs array');
  for (const i of x.inputs) {
    if (!isObject(i) || typeof i.name !== 'string') throw bad('each input must be an object with a name');
    if (typeof i.datatype !== 'string') throw bad(`input '${i.name}' has no datatype`);
    if (!Array.isArray(i.shape) || !i.shape.every((d) => count(d) !== null)) throw bad(`input '${i.name}': shape must be an array of non-negative integers`);
    if (i.parameters !== undefined && !isObject(i.parameters)) throw bad(`input '${i.name}': parameters must be an object`);
  }
  if (x.outputs !== undefined) {
    if (!Array.isArray(x.outputs)) throw bad('request outputs must be an array');
    for (const o of x.outputs) {
      if (!isObject(o) || typeof o.name !== 'string') throw bad('each requested output must be an object with a name');
      if (o.parameters !== undefined && !isObject(o.parameters)) throw bad(`output '${o.name}': parameters must be an object`);
    }
  }
  return x as unknown as InferRequest;
}
