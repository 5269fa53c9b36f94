// A separable triangle-filter resize of 8-bit RGB (bilinear, antialiased when shrinking, as
// PIL's BILINEAR): the page's stand-in for libvips' resize. Pure functions, testable in Node.
import type { RgbImage } from '../types.js';

/** Per output index: first source index and normalised weights (pixel centres aligned). */
function weights(inSize: number, outSize: number): { start: Int32Array; w: Float32Array[] } {
  const scale = inSize / outSize;
  const support = Math.max(1, scale); // triangle half-width in source pixels
  const start = new Int32Array(outSize);
  const w: Float32Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support)), hi = Math.min(inSize, Math.ceil(centre + support));
    const ws = new Float32Array(hi - lo);
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += ws[i - lo] = Math.max(0, 1 - Math.abs((i + 0.5 - centre) / support));
    for (let k = 0; k < ws.length; k++) ws[k] /= sum;
    start[o] = lo;
    w.push(ws);
  }
  return { start, w };
}

export function resizeTriangle(img: RgbImage, width: number, height: number): RgbImage {
  if (img.width === width && img.height === height) return img;
  const H = weights(img.width, width), V = weights(img.height, height);
  const tmp = new Float32Array(width * img.height * 3);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < width; x++) {
      const ws = H.w[x], s = H.start[x];
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let k = 0; k < ws.length; k++) acc += ws[k] * img.data[(y * img.width + s + k) * 3 + c];
        tmp[(y * width + x) * 3 + c] = acc;
      }
    }
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const ws = V.w[y], s = V.start[y];
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let k = 0; k < ws.length; k++) acc += ws[k] * tmp[((s + k) * width + x) * 3 + c];
        out[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(acc)));
      }
  }
  return { width, height, data: out };
}
