// A generated texture-like training set, the hard case for the coreset (no plain background to
// prune on): MVTec layout DIR/<kind>/train/good/*.png, 512×512 gray.
//   noise  i.i.d. pixel noise, a new draw per image
//   weave  a fine repeating pattern: two gratings (periods 3–7 px, random angles) with per-image
//          phase, slow shading and pixel noise, like woven fabric or a knurled surface
// Usage: npm run bench -- texture-set [--out /tmp/patchcore-textures] [--images 320] [--size 512]
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/util/rng.js';
import { arg } from '../lib/args.js';

export function textureImage(kind: string, size: number, seed: number): Uint8Array {
  const rng = new Rng(seed),
    px = new Uint8Array(size * size);
  if (kind === 'noise') {
    for (let i = 0; i < px.length; i++) px[i] = Math.floor(rng.next() * 256);
    return px;
  }
  const pattern = new Rng(12345); // the same weave in every image; only phase, shading and noise vary
  const g = [0, 1].map(() => ({ a: pattern.next() * Math.PI, p: 3 + pattern.next() * 4 }));
  const ph = [rng.next() * 2 * Math.PI, rng.next() * 2 * Math.PI],
    shade = rng.next() * 2 * Math.PI;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let v = 128 + 20 * Math.sin((2 * Math.PI * (x + y)) / size + shade);
      for (let k = 0; k < 2; k++) {
        const t = (x * Math.cos(g[k].a) + y * Math.sin(g[k].a)) / g[k].p;
        v += 45 * Math.sin(2 * Math.PI * t + ph[k]);
      }
      v += 25 * (rng.next() - 0.5);
      px[y * size + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  return px;
}

async function main(): Promise<void> {
  const out = arg('out', '/tmp/patchcore-textures'),
    images = Number(arg('images', '320')),
    size = Number(arg('size', '512'));
  for (const kind of arg('kinds', 'noise,weave').split(',')) {
    const dir = path.join(out, kind, 'train', 'good');
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < images; i++) {
      const file = path.join(dir, `${String(i).padStart(3, '0')}.png`);
      if (fs.existsSync(file)) continue;
      await sharp(Buffer.from(textureImage(kind, size, 1000 * (kind === 'noise' ? 1 : 2) + i)), { raw: { width: size, height: size, channels: 1 } })
        .png()
        .toFile(file);
    }
    console.log(`${images} ${kind} images -> ${dir}`);
  }
}

void main();
