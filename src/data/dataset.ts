// Finding images on disk: MVTec layout (train/good, test/<type>, ground_truth/<type>) or a plain folder.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.js';

/** What sharp's prebuilt libvips decodes (no BMP: it has no ImageMagick loader). */
export const IMAGE_EXT = /\.(png|jpe?g|tiff?|webp)$/i;

export interface TestItem {
  file: string;
  defect: string; // 'good' or the defect type folder
  label: 0 | 1;
  mask?: string; // ground-truth mask, when the dataset has one
}

export interface Dataset {
  root: string;
  train: string[];
  test: TestItem[];
  hasMasks: boolean;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

export async function listImages(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir);
  return names
    .filter((n) => IMAGE_EXT.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Good training images: DIR/train/good when present, else the images directly in DIR. */
export async function trainImages(dir: string): Promise<string[]> {
  if (!(await isDir(dir))) throw new UserError(`--data ${dir}: folder not found`);
  const mv = path.join(dir, 'train', 'good');
  const files = await listImages((await isDir(mv)) ? mv : dir);
  if (files.length === 0) throw new UserError(`--data ${dir}: no training images found (expected train/good/*.png|jpg or images in the folder)`);
  // the threshold scores each training image against a bank built from the others
  if (files.length < 2) throw new UserError(`Expected a folder with at least 2 good images for --data but received 1 image in ${JSON.stringify(dir)}`);
  return files;
}

/** Full MVTec-layout dataset with test labels and masks. */
export async function loadDataset(dir: string): Promise<Dataset> {
  const train = await trainImages(dir);
  const testDir = path.join(dir, 'test');
  if (!(await isDir(testDir))) throw new UserError(`--data ${dir}: no test/ folder (MVTec layout: train/good, test/<type>, ground_truth/<type>)`);
  const { test, hasMasks } = await labelledFolders(testDir, dir);
  return { root: dir, train, test, hasMasks };
}

/**
 * Labelled images for calibration: an MVTec-layout dataset's test/ (with its ground_truth/), or a
 * folder holding good/ and one folder per defect type (masks in ground_truth/<type>/ beside them).
 */
export async function labelledImages(dir: string): Promise<{ test: TestItem[]; hasMasks: boolean }> {
  if (!(await isDir(dir))) throw new UserError(`--data ${dir}: folder not found`);
  const mvtec = await isDir(path.join(dir, 'test'));
  const r = await labelledFolders(mvtec ? path.join(dir, 'test') : dir, dir);
  if (!r.test.some((t) => t.label === 0) || !r.test.some((t) => t.label === 1))
    throw new UserError(`--data ${dir}: needs good/ and at least one defect folder with images${mvtec ? ' under test/' : ''}`);
  return r;
}

async function labelledFolders(testDir: string, dir: string): Promise<{ test: TestItem[]; hasMasks: boolean }> {
  const types = (await fs.readdir(testDir)).filter((t) => t !== 'ground_truth').sort();
  const test: TestItem[] = [];
  let hasMasks = false;
  for (const t of types) {
    if (!(await isDir(path.join(testDir, t)))) continue;
    for (const file of await listImages(path.join(testDir, t))) {
      const item: TestItem = { file, defect: t, label: t === 'good' ? 0 : 1 };
      if (item.label) {
        const stem = path.basename(file).replace(IMAGE_EXT, '');
        const m = path.join(dir, 'ground_truth', t, `${stem}_mask.png`);
        if (
          await fs.stat(m).then(
            () => true,
            () => false,
          )
        ) {
          item.mask = m;
          hasMasks = true;
        }
      }
      test.push(item);
    }
  }
  if (test.length === 0) throw new UserError(`--data ${dir}: ${path.relative(dir, testDir) || '.'} holds no images`);
  return { test, hasMasks };
}
