// Saving and loading a model directory: model.json plus a binary bank, both written atomically.
// The bank file name carries its hash, so a new save never overwrites the file the old model.json
// points to: a crash at any moment leaves either the old or the new model intact.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { MemoryBank } from '../types.js';
import { unzipSync } from 'fflate';
import { writeFileAtomic } from '../util/atomic.js';
import { sha256 } from '../util/hash.js';
import { UserError } from '../util/errors.js';
import type { ModelConfig } from './config.js';
import { parseModelConfig } from './config-schema.js';

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

/** `keepOld`: leave the bank the old model.json points to (an update keeps the old version). */
export async function saveModel(dir: string, config: Omit<ModelConfig, 'bank'>, bank: MemoryBank, o: { keepOld?: boolean } = {}): Promise<ModelConfig> {
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
  if (old && old !== file && !o.keepOld) await fs.rm(path.join(dir, old), { force: true });
  return full;
}

/**
 * Rewrite model.json only (a new threshold from calibrate or the web page): the bank it points
 * to must be the one already in `dir`, so a stale or foreign model object cannot swap it.
 */
export async function saveConfig(dir: string, config: ModelConfig): Promise<void> {
  if (isModelZip(dir)) throw new UserError(`${dir}: a zipped model is read-only; unzip it into a folder to change its threshold`);
  const current = parseModelConfig(await fs.readFile(path.join(dir, 'model.json'), 'utf8'), dir);
  if (current.bank.sha256 !== config.bank.sha256)
    throw new UserError(`${dir}: holds a different model (bank ${current.bank.sha256.slice(0, 12)}…); not overwriting it`);
  await writeFileAtomic(path.join(dir, 'model.json'), JSON.stringify(config, null, 2) + '\n');
}

/** A model given as a .zip (the page's download) rather than a directory. */
export const isModelZip = (dir: string) => /\.zip$/i.test(dir);

/**
 * A model directory, or a .zip holding its two files at the top level (what the browser page
 * downloads): `loadModel` reads either, so predict, serve and export accept both.
 */
async function modelFiles(dir: string): Promise<(name: string) => Promise<Uint8Array | null>> {
  if (!isModelZip(dir)) return (name) => fs.readFile(path.join(dir, name)).catch(() => null);
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(await fs.readFile(dir));
  } catch (e) {
    throw new UserError(`model ${dir}: cannot read the zip file (${e instanceof Error ? e.message : String(e)})`);
  }
  return async (name) => entries[name] ?? null;
}

export async function loadModel(dir: string): Promise<StoredModel> {
  const read = await modelFiles(dir);
  const jsonFile = path.join(dir, 'model.json');
  const json = await read('model.json');
  if (!json) throw new UserError(`model ${dir}: no model.json (not a model directory; create one with 'patchcore fit')`);
  const config = parseModelConfig(new TextDecoder().decode(json), jsonFile);
  const bytes = await read(config.bank.file);
  if (!bytes) throw new UserError(`model ${dir}: bank file ${config.bank.file} is missing`);
  if (sha256(bytes) !== config.bank.sha256)
    throw new UserError(`model ${dir}: checksum mismatch in ${config.bank.file} (file corrupted or modified); refit the model`);
  const { size, dim, b } = config.bank;
  if (bytes.byteLength !== size * dim * 4 + size * b * 4) throw new UserError(`model ${dir}: bank file has the wrong size`);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const data = new Float32Array(ab, 0, size * dim);
  const neighbours = b > 0 ? new Int32Array(ab, size * dim * 4, size * b) : undefined;
  return { config, bank: { size, dim, data, neighbours, b: b || undefined } };
}

/** Where an update keeps the version it replaced: restore it by copying it over model.json. */
export const versionFile = (dir: string, id: string) => path.join(dir, 'versions', `model.${id}.json`);

/**
 * Save an updated model over its parent in `dir`: the parent's model.json is first kept as
 * versions/model.<id>.json (its bank file stays), then the new bank and model.json are written,
 * each atomically. Killed at any point, model.json names either the old or the new version, and
 * both banks exist. Refuses when `dir` no longer holds the parent (`idOf` gives a config's model_id).
 */
export async function saveVersion(
  dir: string,
  { config, bank, parent }: { config: ModelConfig; bank: MemoryBank; parent: string },
  idOf: (c: ModelConfig) => string,
): Promise<ModelConfig> {
  if (isModelZip(dir)) throw new UserError(`${dir}: a zipped model is read-only; unzip it into a folder to update it, or give --out`);
  await removeStaleTemps(dir);
  const text = await fs.readFile(path.join(dir, 'model.json'), 'utf8');
  const current = idOf(parseModelConfig(text, path.join(dir, 'model.json')));
  if (current !== parent) throw new UserError(`${dir}: now holds model ${current}, not ${parent} that the update started from; not overwriting it`);
  await writeFileAtomic(versionFile(dir, parent), text);
  return saveModel(dir, config, bank, { keepOld: true });
}

/** Temp files of atomic writes whose process is gone (killed before it could remove them). */
async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const m = /\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name);
    if (m && !alive(Number(m[1]))) await fs.rm(path.join(dir, name), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
