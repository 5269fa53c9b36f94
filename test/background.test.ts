import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { RgbImage } from '../src/types.js';
import { UserError } from '../src/util/errors.js';
import { Rng } from '../src/util/rng.js';
import { loadOpenCv } from '../src/image/opencv.js';
import { rangeMask } from '../src/image/background-range.js';
import { DEFAULT_BACKGROUND, backgroundFigure, parseBgRange, removeBackground, type BackgroundConfig } from '../src/image/background.js';

const W = 120,
  H = 100,
  CX = 60,
  CY = 50,
  R = 20;
const dist = (x: number, y: number) => Math.hypot(x - CX, y - CY);

/** Speck positions (top-left), all > 25 px from the object centre; sizes 1 or 2 px. */
const SPECKS: Array<[number, number, number]> = [
  [10, 10, 1],
  [100, 15, 2],
  [15, 80, 2],
  [105, 85, 1],
  [60, 8, 2],
  [20, 45, 1],
];

/** Disk of `fg` on a `bg` background (± noise), dust specks of `speck`, one 1-px `glint` in the object. */
function scene(bg: number, fg: number, speck: number, glint: number, noise = 0): RgbImage {
  const rng = new Rng(7);
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = dist(x, y) <= R ? fg : bg + Math.round((rng.next() * 2 - 1) * noise);
      data.fill(v, (y * W + x) * 3, (y * W + x) * 3 + 3);
    }
  }
  const put = (x: number, y: number, v: number) => data.fill(v, (y * W + x) * 3, (y * W + x) * 3 + 3);
  for (const [x, y, s] of SPECKS) for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) put(x + dx, y + dy, speck);
  put(CX + 5, CY - 3, glint);
  return { width: W, height: H, data };
}

const px = (img: RgbImage, x: number, y: number) => img.data[(y * img.width + x) * 3];
const cfg = (over: Partial<BackgroundConfig>): BackgroundConfig => ({ ...DEFAULT_BACKGROUND, ...over });

/** Object (disk) pixels and every foreground pixel must come back byte-identical. */
function assertObjectUntouched(src: RgbImage, out: RgbImage, mask: Uint8Array) {
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 3;
      if (dist(x, y) <= R - 1 || !mask[y * W + x]) {
        assert.deepEqual([...out.data.subarray(i, i + 3)], [...src.data.subarray(i, i + 3)], `(${x},${y})`);
      }
    }
  }
}

/** Gray a whole-image filter would paste at (x, y): the halo the masked filter avoids. */
async function wholeImageFilter(img: RgbImage, filter: 'average' | 'median', x: number, y: number): Promise<number> {
  const { cv } = await loadOpenCv();
  const src = new cv.Mat(img.height, img.width, cv.CV_8UC3);
  src.data.set(img.data);
  const gray = new cv.Mat(),
    dst = new cv.Mat();
  cv.cvtColor(src, gray, cv.COLOR_RGB2GRAY);
  if (filter === 'average') cv.blur(gray, dst, new cv.Size(11, 11));
  else cv.medianBlur(gray, dst, 11);
  const v = dst.data[y * img.width + x];
  for (const m of [src, gray, dst]) m.delete();
  return v;
}

/** A dark 50×40 block with a 25×20 light notch cut out of its corner: a concave object corner. */
function notchScene(): RgbImage {
  const data = new Uint8Array(W * H * 3).fill(200);
  for (let y = 20; y < 60; y++) {
    for (let x = 20; x < 70; x++) if (x < 45 || y < 40) data.fill(40, (y * W + x) * 3, (y * W + x) * 3 + 3);
  }
  return { width: W, height: H, data };
}

test('loading OpenCV leaves no process listeners behind (its glue aborts WASM on any rejection)', async () => {
  const events = ['uncaughtException', 'unhandledRejection'] as const;
  const before = events.map((e) => process.listenerCount(e));
  const [a, b] = await Promise.all([loadOpenCv(), loadOpenCv()]);
  assert.equal(a.cv, b.cv);
  assert.equal(typeof a.cv.Mat, 'function');
  assert.deepEqual(
    events.map((e) => process.listenerCount(e)),
    before,
  );
});

for (const filter of ['average', 'median'] as const) {
  test(`${filter} 11: dust specks removed, object byte-identical, no halo`, async () => {
    const src = scene(200, 40, 50, 230);
    const { image, mask } = await removeBackground(src, cfg({ filter }));
    // Specks are background after closing but out of range, so they never contribute.
    for (const [x, y] of SPECKS) assert.equal(px(image, x, y), 200, `speck (${x},${y})`);
    assertObjectUntouched(src, image, mask);
    // Background just outside the object keeps its level; a whole-image blur would not.
    // (CX+R+1, CY) touches the disk's 1-px nub at (CX+R, CY) that the closing makes background.
    for (const [x, y] of [
      [CX + R + 1, CY],
      [CX, CY - R - 2],
      [CX - R - 2, CY + 1],
    ]) {
      assert.equal(mask[y * W + x], 1);
      assert.equal(px(image, x, y), 200, `halo at (${x},${y})`);
      if (filter === 'average') assert.ok((await wholeImageFilter(src, filter, x, y)) < 160, 'whole-image blur halo');
    }
  });

  test(`${filter} 11: no halo in a concave object corner`, async () => {
    const src = notchScene();
    const { image, mask } = await removeBackground(src, cfg({ filter }));
    // Most of the 11×11 window around (46, 41) is object: any unmasked filter turns it dark.
    assert.equal(mask[41 * W + 46], 1);
    assert.equal(px(image, 46, 41), 200);
    assert.ok((await wholeImageFilter(src, filter, 46, 41)) < 160, 'whole-image filter halo');
    for (let p = 0; p < mask.length; p++) if (!mask[p]) assert.equal(image.data[p * 3], src.data[p * 3]);
  });
}

test('mask: closing fills dust holes, opening keeps a glint on the object as foreground', async () => {
  const src = scene(200, 40, 50, 230);
  const raw = rangeMask(src, { lo: [150, 150, 150], hi: [255, 255, 255] });
  assert.equal(raw[SPECKS[0][1] * W + SPECKS[0][0]], 0, 'speck is a hole in the raw mask');
  assert.equal(raw[(CY - 3) * W + CX + 5], 1, 'glint is in range in the raw mask');
  const { mask, image } = await removeBackground(src, DEFAULT_BACKGROUND);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (dist(x, y) > R + 3) assert.equal(mask[y * W + x], 1, `(${x},${y})`);
  assert.equal(mask[(CY - 3) * W + CX + 5], 0);
  assert.equal(px(image, CX + 5, CY - 3), 230);
  let fg = 0;
  for (const v of mask) fg += 1 - v;
  assert.ok(Math.abs(fg - Math.PI * R * R) < 0.05 * Math.PI * R * R, `foreground area ${fg}`);
});

test('pasted background is BT.601 gray in all channels', async () => {
  const data = new Uint8Array(16 * 16 * 3);
  for (let i = 0; i < data.length; i += 3) data.set([250, 180, 160], i);
  const { image } = await removeBackground({ width: 16, height: 16, data }, cfg({ morph: 0 }));
  const g = Math.round(0.299 * 250 + 0.587 * 180 + 0.114 * 160);
  assert.deepEqual([...image.data.subarray(0, 3)], [g, g, g]);
});

test('median needs an odd size; average takes 14', async () => {
  const src = scene(200, 40, 50, 230);
  await assert.rejects(removeBackground(src, cfg({ filter: 'median', size: 14 })), (e) => e instanceof UserError && /odd/.test(e.message));
  const { image } = await removeBackground(src, cfg({ filter: 'average', size: 14 }));
  for (const [x, y] of SPECKS) assert.equal(px(image, x, y), 200);
});

test('auto range on a dark background picks a dark range and removes bright specks', async () => {
  const src = scene(30, 200, 230, 10, 4);
  const { image, mask, range } = await removeBackground(src, cfg({ range: 'auto', filter: 'median' }));
  for (let c = 0; c < 3; c++) {
    assert.ok(range.lo[c] <= 26 && range.hi[c] >= 34 && range.hi[c] <= 60, JSON.stringify(range));
  }
  for (const [x, y] of SPECKS) assert.ok(Math.abs(px(image, x, y) - 30) <= 3, `speck -> ${px(image, x, y)}`);
  assertObjectUntouched(src, image, mask);
});

test('parseBgRange', () => {
  assert.deepEqual(parseBgRange('150,150,150:255,255,255'), { lo: [150, 150, 150], hi: [255, 255, 255] });
  assert.deepEqual(parseBgRange(' 0, 10,20:30,40 ,50 '), { lo: [0, 10, 20], hi: [30, 40, 50] });
  assert.equal(parseBgRange('AUTO'), 'auto');
  for (const bad of ['', '150:255', '1,2,3:4,5', '1,2,3:4,5,x', '300,0,0:255,255,255', '200,0,0:100,255,255', '1,2,3:4,5,6:7', '-1,0,0:1,1,1']) {
    assert.throws(
      () => parseBgRange(bad),
      (e) => e instanceof UserError && /for background.range but received/.test(e.message),
      bad,
    );
  }
});

test('figure: 4 panels side by side, downscaled beyond 512 px', async () => {
  const small = await sharp(await backgroundFigure(scene(200, 40, 50, 230), DEFAULT_BACKGROUND)).metadata();
  assert.deepEqual([small.format, small.width, small.height], ['png', 4 * W + 3 * 8, H]);
  const big: RgbImage = { width: 1024, height: 256, data: new Uint8Array(1024 * 256 * 3).fill(210) };
  const meta = await sharp(await backgroundFigure(big, DEFAULT_BACKGROUND)).metadata();
  assert.deepEqual([meta.width, meta.height], [4 * 512 + 3 * 8, 128]);
});

test('--bg-connected: the mask follows the object (thin parts and enclosed highlights stay, dust goes)', async () => {
  // a dark disk with a 2-px-wide spoke sticking out and a 5×5 in-range highlight inside it
  const img = scene(200, 60, 90, 60);
  const put = (x: number, y: number, v: number) => img.data.fill(v, (y * W + x) * 3, (y * W + x) * 3 + 3);
  for (let x = CX + R; x < CX + R + 12; x++) for (const y of [CY, CY + 1]) put(x, y, 60);
  for (let y = CY - 2; y <= CY + 2; y++) for (let x = CX - 2; x <= CX + 2; x++) put(x, y, 220);
  const morph = await removeBackground(img, cfg({}));
  const conn = await removeBackground(img, cfg({ connected: true }));
  const at = (m: Uint8Array, x: number, y: number) => m[y * W + x];
  // the spoke tip: shaved into the background by open/close, kept by the connected mask
  assert.equal(at(morph.mask, CX + R + 10, CY), 1);
  assert.equal(at(conn.mask, CX + R + 10, CY), 0);
  assert.equal(px(conn.image, CX + R + 10, CY), 60);
  // the enclosed highlight is in range but not background under the connected mask
  assert.equal(at(conn.mask, CX, CY), 0);
  assert.equal(px(conn.image, CX, CY), 220);
  // dust specks are background and replaced by the background level
  for (const [x, y] of SPECKS) {
    assert.equal(at(conn.mask, x, y), 1, `speck at ${x},${y}`);
    assert.ok(Math.abs(px(conn.image, x, y) - 200) <= 2, `speck at ${x},${y} -> ${px(conn.image, x, y)}`);
  }
});
