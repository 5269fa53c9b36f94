// Browser stand-in for src/image/load.ts (same exports; the bundler swaps it in): images are
// decoded by the browser (createImageBitmap + OffscreenCanvas, no colour conversion) and looked
// up by name in a registry the worker fills, so PatchCore.fit(names, …) runs unchanged.
import type { RgbImage } from '../../types.js';
import { UserError } from '../../util/errors.js';

export const MAX_SIDE = 16384;

const registry = new Map<string, RgbImage | Blob>();

/** Make `name` loadable by loadImage: decoded pixels, or a file the browser decodes on demand. */
export function registerImage(name: string, image: RgbImage | Blob): void {
  registry.set(name, image);
}
export function forgetImages(): void {
  registry.clear();
}

export async function decodeImage(bytes: Uint8Array | Blob, label: string): Promise<RgbImage> {
  try {
    const blob = bytes instanceof Blob ? bytes : new Blob([bytes as BlobPart]);
    const bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    if (bmp.width > MAX_SIDE || bmp.height > MAX_SIDE) throw new Error(`larger than ${MAX_SIDE} pixels`);
    const canvas = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(bmp, 0, 0);
    bmp.close();
    const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const n = canvas.width * canvas.height,
      data = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      data[3 * i] = rgba[4 * i];
      data[3 * i + 1] = rgba[4 * i + 1];
      data[3 * i + 2] = rgba[4 * i + 2];
    }
    return { width: canvas.width, height: canvas.height, data };
  } catch (e) {
    throw new UserError(`cannot read image ${label}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export async function loadImage(name: string): Promise<RgbImage> {
  const src = registry.get(name);
  if (!src) throw new UserError(`cannot read image ${name}: not loaded in the page`);
  return src instanceof Blob ? decodeImage(src, name) : src;
}

export async function loadMask(name: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  const img = await loadImage(name);
  const data = new Uint8Array(img.width * img.height);
  for (let i = 0; i < data.length; i++) data[i] = img.data[3 * i] > 127 ? 1 : 0;
  return { width: img.width, height: img.height, data };
}

export async function encodePng(): Promise<never> {
  throw new Error('PNG encoding is not used in the page (overlays are drawn on a canvas)');
}
