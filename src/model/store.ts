// Saving and loading a model directory: model.json plus a binary bank, both written atomically.
// The bank file name carries its hash, so a new save never overwrites the file the old model.json
// points to: a crash at any moment leaves either the old or the new model intact.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { MemoryBank } from '../types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { sha256 } from '../util/hash.js';
import { UserError } from '../util/errors.js';
import { parseModelConfig, type ModelConfig } from './config.js';

export interface StoredModel {
  config: ModelConfig;
  bank: MemoryBank;
}

/** Bank layout: size×dim float32, then size×b int32 neighbour table. */
function encodeBank(bank: MemoryBank): Uint8Array {
  const nb = bank.neighbours ?? new Int32Array(0);
  const out = new Uint8Array(bank.data.byteLength + nb.byteLength);
  out.set(new Uint8Array(bank.data.buffer, bank.data.byteOffset, bank.data.byteLength), 0);
  out.set(new Uint8Array(nb.buffer, nb.byteOffset, nb.byteLength), bank.data.byteLength);
  return out;
}

export async function saveModel(dir: string, config: Omit<ModelConfig, 'bank'>, bank: MemoryBank): Promise<ModelConfig> {
  const bytes = encodeBank(bank);
  const hash = sha256(bytes);
  const file = `bank-${hash.slice(0, 16)}.bin`;
  const full: ModelConfig = { ...config, bank: { file, sha256: hash, size: bank.size, dim: bank.dim, b: bank.b ?? 0 } } as ModelConfig;
  let old: string | null = null;
  try {
    old = parseModelConfig(await fs.readFile(path.join(dir, 'model.json'), 'utf8'), dir).bank.file;
  } catch {
    old = null;
  }
  await writeFileAtomic(path.join(dir, file), bytes);
  await writeFileAtomic(path.join(dir, 'model.json'), JSON.stringify(full, null, 2) + '\n');
  if (old && old !== file) await fs.rm(path.join(dir, old), { force: true });
  return full;
}

/**
 * Rewrite model.json only (a new threshold from calibrate or the web page): the bank it points
 * to must be the one already in `dir`, so a stale or foreign model object cannot swap it.
 */
export async function saveConfig(dir: string, config: ModelConfig): Promise<void> {
  const current = parseModelConfig(await fs.readFile(path.join(dir, 'model.json'), 'utf8'), dir);
  if (current.bank.sha256 !== config.bank.sha256) throw new UserError(`${dir}: holds a different model (bank ${current.bank.sha256.slice(0, 12)}…); not overwriting it`);
  await writeFileAtomic(path.join(dir, 'model.json'), JSON.stringify(config, null, 2) + '\n');
}

export async function loadModel(dir: string): Promise<StoredModel> {
  const jsonFile = path.join(dir, 'model.json');
  let text: string;
  try {
    text = await fs.readFile(jsonFile, 'utf8');
  } catch {
    throw new UserError(`--model ${dir}: no model.json (not a model directory; create one with 'patchcore fit')`);
  }
  const config = parseModelConfig(text, jsonFile);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(path.join(dir, config.bank.file));
  } catch {
    throw new UserError(`--model ${dir}: bank file ${config.bank.file} is missing`);
  }
  if (sha256(bytes) !== config.bank.sha256) throw new UserError(`--model ${dir}: checksum mismatch in ${config.bank.file} (file corrupted or modified); refit the model`);
  const { size, dim, b } = config.bank;
  if (bytes.byteLength !== size * dim * 4 + size * b * 4) throw new UserError(`--model ${dir}: bank file has the wrong size`);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const data = new Float32Array(ab, 0, size * dim);
  const neighbours = b > 0 ? new Int32Array(ab, size * dim * 4, size * b) : undefined;
  return { config, bank: { size, dim, data, neighbours, b: b || undefined } };
}
