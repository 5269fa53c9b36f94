// Independent plain-TypeScript ResNet forward pass (unfolded BatchNorm), to check the ONNX graph against.
// It reads the architecture from the checkpoint names alone, so it shares no code with the builder.
export interface Fmap {
  c: number;
  h: number;
  w: number;
  data: Float64Array;
}

type Weights = Map<string, { shape: number[]; data: Float32Array }>;

function conv(x: Fmap, wt: { shape: number[]; data: Float32Array }, stride: number): Fmap {
  const [co, ci, k] = wt.shape;
  const pad = k >> 1;
  const h = Math.floor((x.h + 2 * pad - k) / stride) + 1;
  const w = Math.floor((x.w + 2 * pad - k) / stride) + 1;
  const out = new Float64Array(co * h * w);
  for (let o = 0; o < co; o++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        let s = 0;
        for (let i = 0; i < ci; i++)
          for (let ky = 0; ky < k; ky++) {
            const iy = y * stride + ky - pad;
            if (iy < 0 || iy >= x.h) continue;
            for (let kx = 0; kx < k; kx++) {
              const ix = xx * stride + kx - pad;
              if (ix < 0 || ix >= x.w) continue;
              s += x.data[(i * x.h + iy) * x.w + ix] * wt.data[((o * ci + i) * k + ky) * k + kx];
            }
          }
        out[(o * h + y) * w + xx] = s;
      }
  return { c: co, h, w, data: out };
}

function bn(x: Fmap, W: Weights, p: string): Fmap {
  const [g, b, m, v] = ['weight', 'bias', 'running_mean', 'running_var'].map((s) => W.get(`${p}.${s}`)!.data);
  const hw = x.h * x.w;
  const data = x.data.map((val, i) => {
    const c = Math.floor(i / hw);
    return ((val - m[c]) / Math.sqrt(v[c] + 1e-5)) * g[c] + b[c];
  });
  return { ...x, data };
}

const relu = (x: Fmap): Fmap => ({ ...x, data: x.data.map((v) => Math.max(0, v)) });
const add = (a: Fmap, b: Fmap): Fmap => ({ ...a, data: a.data.map((v, i) => v + b.data[i]) });

function maxPool3s2(x: Fmap): Fmap {
  const h = Math.floor((x.h - 1) / 2) + 1;
  const w = Math.floor((x.w - 1) / 2) + 1;
  const out = new Float64Array(x.c * h * w).fill(-Infinity);
  for (let c = 0; c < x.c; c++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const iy = 2 * y + dy,
              ix = 2 * xx + dx;
            if (iy < 0 || iy >= x.h || ix < 0 || ix >= x.w) continue;
            const o = (c * h + y) * w + xx;
            out[o] = Math.max(out[o], x.data[(c * x.h + iy) * x.w + ix]);
          }
  return { c: x.c, h, w, data: out };
}

/** One image [3,H,W] -> { layer2, layer3 }. */
export function referenceForward(W: Weights, image: Float32Array, h: number, w: number): { layer2: Fmap; layer3: Fmap } {
  const cbr = (x: Fmap, c: string, b: string, s: number) => bn(conv(x, W.get(`${c}.weight`)!, s), W, b);
  let x: Fmap = { c: 3, h, w, data: Float64Array.from(image) };
  x = maxPool3s2(relu(cbr(x, 'conv1', 'bn1', 2)));
  const outs: Fmap[] = [];
  for (let L = 1; L <= 3; L++) {
    for (let b = 0; W.has(`layer${L}.${b}.conv1.weight`); b++) {
      const p = `layer${L}.${b}`;
      const s = L > 1 && b === 0 ? 2 : 1;
      const bottleneck = W.has(`${p}.conv3.weight`);
      let y = relu(cbr(x, `${p}.conv1`, `${p}.bn1`, bottleneck ? 1 : s));
      y = cbr(y, `${p}.conv2`, `${p}.bn2`, bottleneck ? s : 1);
      if (bottleneck) y = cbr(relu(y), `${p}.conv3`, `${p}.bn3`, 1);
      const id = W.has(`${p}.downsample.0.weight`) ? cbr(x, `${p}.downsample.0`, `${p}.downsample.1`, s) : x;
      x = relu(add(y, id));
    }
    outs.push(x);
  }
  return { layer2: outs[1], layer3: outs[2] };
}
