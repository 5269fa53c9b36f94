// Removing old versions of a model directory (`patchcore prune`): an update keeps the version it
// replaced as versions/model.<id>.json with its bank file; prune deletes all but the `keep` nearest
// ones (the current model's parent first, then its parent, …, then any others newest first).
// The version model.json names is never touched, nor any bank a remaining version uses. Each
// version goes by two unlinks, its JSON first: a kill in between leaves a spare bank file, never a
// version whose bank is missing.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.js';
import type { ModelConfig } from './config.js';
import { parseModelConfig } from './config-schema.js';
import { isModelZip } from './store.js';

export interface PrunedVersion {
  id: string;
  file: string;
  /** The bank file removed with it (null when a remaining version still uses it). */
  bank: string | null;
  bytes: number;
}

export interface PruneResult {
  current: string;
  kept: string[];
  removed: PrunedVersion[];
  /** Version files that could not be read: left alone. */
  unreadable: string[];
}

const VERSION = /^model\.([0-9a-f]{12})\.json$/;

export async function pruneVersions(dir: string, keep: number, o: { dryRun?: boolean; idOf: (c: ModelConfig) => string }): Promise<PruneResult> {
  if (isModelZip(dir)) throw new UserError(`${dir}: a zipped model has no versions to prune`);
  if (!(Number.isInteger(keep) && keep >= 0)) throw new UserError(`Expected a non-negative integer for keep but received ${keep}`);
  const text = await fs.readFile(path.join(dir, 'model.json'), 'utf8').catch(() => null);
  if (text === null) throw new UserError(`model ${dir}: no model.json (not a model directory)`);
  const current = parseModelConfig(text, path.join(dir, 'model.json'));
  const currentId = o.idOf(current);
  const vdir = path.join(dir, 'versions');
  const versions = new Map<string, { file: string; config: ModelConfig }>();
  const unreadable: string[] = [];
  for (const name of (await fs.readdir(vdir).catch(() => [] as string[])).sort()) {
    const id = VERSION.exec(name)?.[1];
    if (!id || id === currentId) continue;
    const file = path.join(vdir, name);
    try {
      versions.set(id, { file, config: parseModelConfig(await fs.readFile(file, 'utf8'), file) });
    } catch {
      unreadable.push(file);
    }
  }
  const order: string[] = [];
  for (let p = current.parent; p && versions.has(p) && !order.includes(p); p = versions.get(p)!.config.parent) order.push(p);
  const rest = [...versions.keys()].filter((id) => !order.includes(id));
  rest.sort((a, b) => versions.get(b)!.config.createdAt.localeCompare(versions.get(a)!.config.createdAt));
  order.push(...rest);
  const kept = order.slice(0, keep);
  const inUse = new Set([current.bank.file, ...kept.map((id) => versions.get(id)!.config.bank.file)]);
  const removed: PrunedVersion[] = [];
  for (const id of order.slice(keep)) {
    const v = versions.get(id)!;
    const bankFile = path.basename(v.config.bank.file) === v.config.bank.file && !inUse.has(v.config.bank.file) ? v.config.bank.file : null;
    const bytes = bankFile ? ((await fs.stat(path.join(dir, bankFile)).catch(() => null))?.size ?? 0) : 0;
    if (!o.dryRun) {
      await fs.rm(v.file, { force: true });
      if (bankFile) await fs.rm(path.join(dir, bankFile), { force: true });
    }
    inUse.add(v.config.bank.file); // another pruned version sharing it: already gone, count it once
    removed.push({ id, file: v.file, bank: bankFile, bytes });
  }
  return { current: currentId, kept, removed, unreadable };
}
