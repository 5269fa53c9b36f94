// Decoding and encoding images with sharp (libvips): PNG, JPEG, TIFF, WebP (and GIF, HEIF, SVG).
// The prebuilt sharp has no BMP decoder (no ImageMagick), so BMP is not a dataset format.
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import type { RgbImage } from '../types.js';
import { UserError } from '../util/errors.js';

/** Largest accepted side, so a hostile file cannot exhaust memory. */
export const MAX_SIDE = 16384;

/** Decode image bytes to 8-bit RGB; `label` names the source in errors. */
export async function decodeImage(bytes: Uint8Array, label: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error', limitInputPixels: MAX_SIDE * MAX_SIDE })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new UserError(`cannot read image ${label}: ${why}`);
  }
}

export async function loadImage(file: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      `cannot read image ${file}: ${code === 'EISDIR' ? 'it is a directory, not an image file' : code === 'ENOENT' ? 'no such file' : 'unreadable'}`,
    );
  }
  return decodeImage(bytes, file);
}

/** Decode a single-channel mask (any format); non-zero = defect. */
export async function loadMask(file: string): Promise<{ width: number; height: number; data: Uint8Array }> {
  try {
    const { data, info } = await sharp(file).extractChannel(0).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    const out = new Uint8Array(info.width * info.height);
    for (let i = 0; i < out.length; i++) out[i] = data[i * info.channels] > 127 ? 1 : 0;
    return { width: info.width, height: info.height, data: out };
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new UserError(`cannot read mask ${file}: ${why}`);
  }
}

/** Encode RGB to PNG bytes. */
export async function encodePng(img: RgbImage): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Encode a 0/1 mask as a black-and-white 8-bit PNG (255 = defect). */
export async function encodeMaskPng(mask: Uint8Array, width: number, height: number): Promise<Buffer> {
  const px = Buffer.alloc(mask.length);
  for (let i = 0; i < mask.length; i++) px[i] = mask[i] ? 255 : 0;
  return sharp(px, { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}
