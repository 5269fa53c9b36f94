// The model directory's feedback folder: parts an operator labelled at the station, as
// feedback/good/<id>.<ext> and feedback/defect/<id>.<ext>, each with a sidecar <id>.json naming the
// result id, the model that scored it and whether an update has applied it. The image is written
// first and the sidecar last (both atomic), so a sidecar always has its image: it is the commit.
// The same layout is what `patchcore calibrate` reads as labelled images (good/ plus a defect folder).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import type { TestItem } from '../data/dataset.js';

export const FEEDBACK_DIR = 'feedback';
export type FeedbackKind = 'good' | 'defect';
const KINDS: FeedbackKind[] = ['good', 'defect'];
/** Result ids are UUIDs; anything else never names a file. */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface FeedbackLabel {
  id: string;
  label: FeedbackKind;
  /** The model that scored the part, and what it said. */
  model_id: string;
  score: number;
  verdict: 'pass' | 'fail';
  /** Where the part came from (upload name or watched file). */
  source: string;
  time: string;
  /** The image's file name beside the sidecar. */
  image: string;
  /** Set once an update added the part to the bank. */
  applied?: { model_id: string; time: string };
  /** Set when an update could not read the image; it is not retried. */
  failed?: { error: string; time: string };
}

export const feedbackDir = (modelDir: string) => path.join(modelDir, FEEDBACK_DIR);
const sidecar = (modelDir: string, kind: FeedbackKind, id: string) => path.join(feedbackDir(modelDir), kind, `${id}.json`);
/** The image file of a label. */
export const labelImage = (modelDir: string, l: Pick<FeedbackLabel, 'label' | 'image'>) => path.join(feedbackDir(modelDir), l.label, l.image);

export const isResultId = (id: unknown): id is string => typeof id === 'string' && ID.test(id);

async function readLabel(file: string): Promise<FeedbackLabel | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as FeedbackLabel;
  } catch {
    return null; // missing, or a sidecar someone broke by hand: not a label
  }
}

/** Every label in the folder (both kinds), oldest first. */
export async function listLabels(modelDir: string): Promise<FeedbackLabel[]> {
  const out: FeedbackLabel[] = [];
  for (const kind of KINDS) {
    const dir = path.join(feedbackDir(modelDir), kind);
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const n of names) {
      if (!n.endsWith('.json') || !ID.test(n.slice(0, -5))) continue;
      const l = await readLabel(path.join(dir, n));
      if (l && l.label === kind) out.push(l);
    }
  }
  return out.sort((a, b) => a.time.localeCompare(b.time) || a.id.localeCompare(b.id));
}

/** Good labels that an update would apply now. */
export const waitingGoods = (labels: FeedbackLabel[]) => labels.filter((l) => l.label === 'good' && !l.applied && !l.failed);

/**
 * Record one label with the part's image bytes. Labelling the same part again with the other kind
 * moves it, unless an update already put it into the bank (then the label stands: refuse).
 * Returns false when the same label was already recorded (nothing written).
 */
export async function recordLabel(modelDir: string, l: Omit<FeedbackLabel, 'image'>, bytes: Uint8Array, ext: string): Promise<boolean> {
  if (!isResultId(l.id)) throw new UserError(`Expected a result id for id but received ${JSON.stringify(l.id)}`);
  const other: FeedbackKind = l.label === 'good' ? 'defect' : 'good';
  const same = await readLabel(sidecar(modelDir, l.label, l.id));
  const previous = await readLabel(sidecar(modelDir, other, l.id));
  if (previous?.applied)
    throw new UserError(`result ${l.id} was labelled ${other} and is already in model ${previous.applied.model_id}; the label cannot change`);
  if (same) return false;
  const entry: FeedbackLabel = { ...l, image: `${l.id}${ext}` };
  await writeFileAtomic(labelImage(modelDir, entry), bytes);
  await writeFileAtomic(sidecar(modelDir, l.label, l.id), `${JSON.stringify(entry, null, 2)}\n`);
  if (previous) {
    await fs.rm(sidecar(modelDir, other, l.id), { force: true }); // sidecar first: never a label without its image
    await fs.rm(labelImage(modelDir, previous), { force: true });
  }
  return true;
}

/** Rewrite the sidecars of `labels` with `change` applied (applied or failed marks). */
export async function markLabels(modelDir: string, labels: FeedbackLabel[], change: Partial<Pick<FeedbackLabel, 'applied' | 'failed'>>): Promise<void> {
  for (const l of labels) await writeFileAtomic(sidecar(modelDir, l.label, l.id), `${JSON.stringify({ ...l, ...change }, null, 2)}\n`);
}

/**
 * The folder as calibrate's labelled images. Goods an update applied are left out by default: they
 * are in the bank now, so they score low by construction and would flatter the false-alarm rate.
 */
export async function feedbackItems(modelDir: string, o: { includeApplied?: boolean } = {}): Promise<{ items: TestItem[]; leftOut: number }> {
  const labels = await listLabels(modelDir);
  const used = labels.filter((l) => !l.failed && (o.includeApplied || !l.applied));
  const items = used.map((l): TestItem => ({ file: labelImage(modelDir, l), defect: l.label, label: l.label === 'good' ? 0 : 1 }));
  const leftOut = labels.length - used.length;
  const n = (k: 0 | 1) => items.filter((t) => t.label === k).length;
  if (n(0) === 0 || n(1) === 0)
    throw new UserError(
      `${feedbackDir(modelDir)}: needs labelled good and defect parts to calibrate from, has ${n(0)} good and ${n(1)} defect${leftOut ? ` (${leftOut} applied or unreadable left out)` : ''}`,
    );
  return { items, leftOut };
}
