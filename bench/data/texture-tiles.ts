// Texture sets from real surfaces: tiles cut from the shared sets, in MVTec layout, for measuring
// what a setting costs on parts with no plain background (the case the shared sets' whole images
// do not test). Each kind's good tiles come from good images; its defects are real ones where the
// source has masks on that surface, plus planted ones (scratches, stains, cut-and-paste) with exact
// masks on good tiles of test images.
//   dust   the screw set's light, dusty background: 4 corner tiles per image (only tiles the screw
//          does not reach); planted defects only
//   tread  the tire's tread: 2 tiles per image from its fixed tread band; real cut, hole,
//          contamination and combined defects (a tile around each mask), and planted ones
//   plate  the MPDD plate's painted face: tiles lying inside the blue paint; real rust and
//          scratches (a tile around each mask) and planted ones
// Usage: npm run bench -- texture-tiles [--out /tmp/patchcore-texture-tiles] [--kinds dust,tread,plate]
// Reads ../shared (PATCHCORE_SHARED); writes nothing into the repo.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/util/rng.js';
import { arg } from '../lib/args.js';

const SHARED = process.env.PATCHCORE_SHARED ?? path.resolve(process.cwd(), '..', 'shared');

interface Raw {
  data: Uint8Array;
  w: number;
  h: number;
}
interface Box {
  x: number;
  y: number;
  size: number;
}

async function readRgb(file: string): Promise<Raw> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), w: info.width, h: info.height };
}

async function readMask(file: string): Promise<Raw> {
  const { data, info } = await sharp(file).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), w: info.width, h: info.height };
}

function crop(img: Raw, b: Box, channels: number): Uint8Array {
  const out = new Uint8Array(b.size * b.size * channels);
  for (let y = 0; y < b.size; y++)
    out.set(img.data.subarray(((b.y + y) * img.w + b.x) * channels, ((b.y + y) * img.w + b.x + b.size) * channels), y * b.size * channels);
  return out;
}

const writePng = (file: string, px: Uint8Array, size: number, channels: 1 | 3) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return sharp(Buffer.from(px), { raw: { width: size, height: size, channels } })
    .png()
    .toFile(file);
};

const pngs = (dir: string) =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.png'))
        .sort()
        .map((f) => path.join(dir, f))
    : [];

/**
 * A planted defect on a tile, in place; returns its mask. Scratch: a 1–3 px line, darker or lighter;
 * stain: a soft ellipse shifted in colour; paste: a square from elsewhere in the tile, turned 90°.
 */
export function plant(px: Uint8Array, size: number, kind: 'scratch' | 'stain' | 'paste', rng: Rng): Uint8Array {
  const mask = new Uint8Array(size * size);
  const m = Math.round(size * 0.15);
  const cx = m + rng.next() * (size - 2 * m),
    cy = m + rng.next() * (size - 2 * m);
  const shift = (rng.next() < 0.5 ? -1 : 1) * (45 + rng.int(40));
  if (kind === 'scratch') {
    const a = rng.next() * Math.PI,
      len = size * (0.2 + 0.3 * rng.next()),
      w = 1 + rng.int(3);
    const dx = Math.cos(a),
      dy = Math.sin(a);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const t = (x - cx) * dx + (y - cy) * dy,
          d = Math.abs(-(x - cx) * dy + (y - cy) * dx);
        if (Math.abs(t) <= len / 2 && d <= w / 2) mask[y * size + x] = 1;
      }
    for (let i = 0; i < mask.length; i++) if (mask[i]) for (let c = 0; c < 3; c++) px[i * 3 + c] = clamp(px[i * 3 + c] + shift);
  } else if (kind === 'stain') {
    const rx = size * (0.03 + 0.05 * rng.next()),
      ry = size * (0.03 + 0.05 * rng.next()),
      tint = [rng.next(), rng.next(), rng.next()];
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const q = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
        if (q > 1) continue;
        mask[y * size + x] = 1;
        const f = 1 - 0.5 * q;
        for (let c = 0; c < 3; c++) px[(y * size + x) * 3 + c] = clamp(px[(y * size + x) * 3 + c] + f * shift * (0.5 + tint[c]));
      }
  } else {
    const s = Math.round(size * (0.12 + 0.1 * rng.next())),
      x0 = Math.min(size - s, Math.round(cx - s / 2)),
      y0 = Math.min(size - s, Math.round(cy - s / 2));
    const sx = rng.int(size - s),
      sy = rng.int(size - s),
      src = px.slice();
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++) {
        const i = (y0 + y) * size + x0 + x,
          j = (sy + (s - 1 - x)) * size + sx + y; // turned 90°
        mask[i] = 1;
        for (let c = 0; c < 3; c++) px[i * 3 + c] = src[j * 3 + c];
      }
  }
  return mask;
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/** A tile around a defect mask's centre, inside `within`; null when the mask is empty. */
function boxAround(mask: Raw, size: number, within: { x0: number; y0: number; x1: number; y1: number }): Box | null {
  let sx = 0,
    sy = 0,
    n = 0;
  for (let y = 0; y < mask.h; y++) for (let x = 0; x < mask.w; x++) if (mask.data[y * mask.w + x] > 127) (sx += x), (sy += y), n++;
  if (n === 0) return null;
  const fit = (c: number, lo: number, hi: number) => Math.max(lo, Math.min(hi - size, Math.round(c - size / 2)));
  return { x: fit(sx / n, within.x0, within.x1), y: fit(sy / n, within.y0, within.y1), size };
}

interface Kind {
  /** Good tiles of one image. */
  tiles(img: Raw): Box[];
  /** Where a tile around a real defect may lie. */
  area?: (img: Raw) => { x0: number; y0: number; x1: number; y1: number } | null;
  set: string;
}

const DUST = 128,
  TREAD = 96,
  PLATE = 96;

const KINDS: Record<string, Kind> = {
  dust: {
    set: 'mvtec_screw',
    // corner tiles the screw does not reach: every pixel light (the screw is darker than ~120)
    tiles: (img) =>
      [
        [0, 0],
        [img.w - DUST, 0],
        [0, img.h - DUST],
        [img.w - DUST, img.h - DUST],
      ]
        .map(([x, y]) => ({ x, y, size: DUST }))
        .filter((b) => crop(img, b, 3).every((v) => v > 120)),
  },
  tread: {
    set: 'mvtec3d_tire',
    // the tread band of MVTec 3D-AD tire at 300×400: x 122–218, y 90–310
    tiles: () => [
      { x: 122, y: 100, size: TREAD },
      { x: 122, y: 204, size: TREAD },
    ],
    area: () => ({ x0: 110, y0: 70, x1: 230, y1: 330 }),
  },
  plate: {
    set: 'mpdd_plate',
    tiles: (img) => plateTiles(img, 2),
    area: (img) => {
      const t = plateTiles(img, 16);
      if (t.length === 0) return null;
      return {
        x0: Math.min(...t.map((b) => b.x)),
        y0: Math.min(...t.map((b) => b.y)),
        x1: Math.max(...t.map((b) => b.x + PLATE)),
        y1: Math.max(...t.map((b) => b.y + PLATE)),
      };
    },
  },
};

/** Up to `most` non-overlapping tiles lying on the blue paint (97 % of a 4-px grid with b > r + 40 and b > g + 20). */
function plateTiles(img: Raw, most: number): Box[] {
  const out: Box[] = [];
  const blue = (x: number, y: number) => {
    const i = (y * img.w + x) * 3,
      [r, g, b] = [img.data[i], img.data[i + 1], img.data[i + 2]];
    return b > r + 40 && b > g + 20;
  };
  for (let y = 0; y + PLATE <= img.h && out.length < most; y += PLATE / 4)
    for (let x = 0; x + PLATE <= img.w && out.length < most; x += PLATE / 4) {
      if (out.some((b) => Math.abs(b.x - x) < PLATE && Math.abs(b.y - y) < PLATE)) continue;
      let inside = 0,
        all = 0;
      for (let yy = y; yy < y + PLATE; yy += 4) for (let xx = x; xx < x + PLATE; xx += 4) (inside += blue(xx, yy) ? 1 : 0), all++;
      if (inside >= 0.97 * all) out.push({ x, y, size: PLATE });
    }
  return out;
}

async function build(kindName: string, out: string): Promise<Record<string, number>> {
  const k = KINDS[kindName];
  const root = path.join(SHARED, 'datasets', k.set),
    dir = path.join(out, kindName);
  fs.rmSync(dir, { recursive: true, force: true });
  const counts: Record<string, number> = {};
  const put = async (where: string, name: string, px: Uint8Array, size: number, mask?: Uint8Array) => {
    await writePng(path.join(dir, where, `${name}.png`), px, size, 3);
    if (mask)
      await writePng(
        path.join(dir, 'ground_truth', where.split('/')[1], `${name}_mask.png`),
        mask.map((v) => (v ? 255 : 0)),
        size,
        1,
      );
    counts[where] = (counts[where] ?? 0) + 1;
  };
  // one training tile per image (the n-th image's (n mod count)-th tile), so a kind has as many
  // training images as its source set
  for (const [n, f] of pngs(path.join(root, 'train', 'good')).entries()) {
    const img = await readRgb(f),
      tiles = k.tiles(img);
    const i = n % Math.max(1, tiles.length),
      b = tiles[i];
    if (b) await put('train/good', `${path.basename(f, '.png')}_${i}`, crop(img, b, 3), b.size);
  }
  // good test tiles: half stay good, half get one planted defect (a different tile of the same image)
  const rng = new Rng(7);
  const planted = ['scratch', 'stain', 'paste'] as const;
  let p = 0;
  for (const f of pngs(path.join(root, 'test', 'good'))) {
    const img = await readRgb(f);
    for (const [i, b] of k.tiles(img).entries()) {
      const px = crop(img, b, 3),
        name = `${path.basename(f, '.png')}_${i}`;
      if (i % 2 === 0) await put('test/good', name, px, b.size);
      else {
        const kind = planted[p++ % 3];
        const mask = plant(px, b.size, kind, rng);
        await put(`test/${kind}`, name, px, b.size, mask);
      }
    }
  }
  // real defects on the surface: a tile around each mask
  if (k.area)
    for (const t of fs.readdirSync(path.join(root, 'test')).filter((t) => t !== 'good')) {
      for (const f of pngs(path.join(root, 'test', t))) {
        const mf = path.join(root, 'ground_truth', t, `${path.basename(f, '.png')}_mask.png`);
        if (!fs.existsSync(mf)) continue;
        const img = await readRgb(f),
          mask = await readMask(mf),
          area = k.area(img);
        const size = k.tiles(img)[0]?.size ?? PLATE;
        const b = area && boxAround(mask, size, area);
        if (!b) continue;
        const mt = crop(mask, b, 1);
        if (mt.filter((v) => v > 127).length < 16) continue; // the defect lies off the surface
        await put(
          `test/real_${t}`,
          path.basename(f, '.png'),
          crop(img, b, 3),
          size,
          mt.map((v) => (v > 127 ? 1 : 0)),
        );
      }
    }
  return counts;
}

async function main(): Promise<void> {
  const out = arg('out', '/tmp/patchcore-texture-tiles');
  for (const kind of arg('kinds', 'dust,tread,plate').split(',')) {
    if (!KINDS[kind]) throw new Error(`Expected one of ${Object.keys(KINDS).join(', ')} for --kinds but received ${JSON.stringify(kind)}`);
    console.log(`${path.join(out, kind)}: ${JSON.stringify(await build(kind, out))}`);
  }
}

if (process.argv[1]?.endsWith('texture-tiles.js'))
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
