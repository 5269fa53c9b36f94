// The composable coreset's one kernel, as WebAssembly SIMD (4 float32 lanes, ~5× the JS loop):
//   for each row i: δ²_i ← min(δ²_i, ‖z_i − c‖²), and return the argmax of δ² (lowest index on ties).
// No npm package offers this, and a toolchain for 60 bytes of code would be a heavier dependency
// than the bytes themselves; `minUpdateRef` is the plain version, tested equal bit for bit.
//
// Sums are float32 in a fixed order (4 accumulators of 4 lanes over dims k ≡ 4j + l mod 16, then
// (a0 + a1) + (a2 + a3) lane-wise, then (l0 + l1) + (l2 + l3)), so the result is deterministic
// and identical to the reference; wasm never fuses a multiply-add.
import type { Matrix } from '../../matrix.js';

/** Rows are padded with zeros to a multiple of this many floats (zeros add nothing to a distance). */
export const LANES = 16;

export function paddedDim(dim: number): number {
  return Math.ceil(dim / LANES) * LANES;
}

const u = (n: number): number[] => {
  // unsigned LEB128
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const vec = (items: number[][]): number[] => [...u(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...u(body.length), ...body];
const str = (s: string): number[] => [...u(s.length), ...[...s].map((c) => c.charCodeAt(0))];

// opcodes
const I32 = 0x7f,
  F32 = 0x7d,
  V128 = 0x7b;
const get = (l: number) => [0x20, l],
  set = (l: number) => [0x21, l],
  tee = (l: number) => [0x22, l];
const i32c = (v: number) => [0x41, ...sleb(v)];
const simd = (op: number, ...imm: number[]) => [0xfd, ...u(op), ...imm];
const load = (offset: number) => simd(0x00, 4, ...u(offset)); // v128.load align 2^4
const F4ADD = simd(0xe4),
  F4SUB = simd(0xe5),
  F4MUL = simd(0xe6);
const lane = (l: number) => simd(0x1f, l); // f32x4.extract_lane
const ZERO = simd(0x0c, ...new Array(16).fill(0)); // v128.const 0
const I32ADD = [0x6a],
  I32MUL = [0x6c],
  I32LTU = [0x49],
  F32ADD = [0x92],
  F32GT = [0x5e];
const F32LOAD = [0x2a, 2, 0],
  F32STORE = [0x38, 2, 0];

function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** update(z, n, dimBytes, c, d) → argmax; pointers are byte offsets, dimBytes a multiple of 64. */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  // params 0 z, 1 n, 2 dimBytes, 3 c, 4 d; locals 5 i, 6 k, 7 p, 8 bi (i32), 9 best, 10 s (f32), 11–14 acc (v128)
  const [Z, N, DB, C, D, I, K, P, BI, BEST, S] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const acc = (j: number) => 11 + j;
  const body: number[] = [
    ...i32c(-1),
    ...set(BI),
    0x43,
    ...new Uint8Array(new Float32Array([-1]).buffer),
    ...set(BEST), // f32.const −1
    ...get(Z),
    ...set(P),
    0x02,
    0x40,
    0x03,
    0x40, // block, loop (rows)
    ...get(I),
    ...get(N),
    0x4f,
    0x0d,
    1, // i ≥u n → break
    ...ZERO,
    ...set(acc(0)),
    ...ZERO,
    ...set(acc(1)),
    ...ZERO,
    ...set(acc(2)),
    ...ZERO,
    ...set(acc(3)),
    ...i32c(0),
    ...set(K),
    0x03,
    0x40, // loop (dims, 16 floats per pass)
  ];
  for (let j = 0; j < 4; j++) {
    body.push(
      ...get(acc(j)),
      ...get(P),
      ...get(K),
      ...I32ADD,
      ...load(16 * j),
      ...get(C),
      ...get(K),
      ...I32ADD,
      ...load(16 * j),
      ...F4SUB,
      ...tee(acc(4) + 0), // reuse a scratch v128 local (15) for d
      ...get(15),
      ...F4MUL,
      ...F4ADD,
      ...set(acc(j)),
    );
  }
  body.push(
    ...get(K),
    ...i32c(64),
    ...I32ADD,
    ...tee(K),
    ...get(DB),
    ...I32LTU,
    0x0d,
    0,
    0x0b, // k < dimBytes → loop; end
    ...get(acc(0)),
    ...get(acc(1)),
    ...F4ADD,
    ...get(acc(2)),
    ...get(acc(3)),
    ...F4ADD,
    ...F4ADD,
    ...tee(15),
    ...lane(0),
    ...get(15),
    ...lane(1),
    ...F32ADD,
    ...get(15),
    ...lane(2),
    ...get(15),
    ...lane(3),
    ...F32ADD,
    ...F32ADD,
    ...set(S),
    // δ² ← min(δ², s), then s ← δ² for the argmax
    ...get(D),
    ...get(I),
    ...i32c(4),
    ...I32MUL,
    ...I32ADD,
    ...tee(K), // K now: δ's address
    ...F32LOAD,
    ...get(S),
    ...F32GT,
    0x04,
    0x40,
    ...get(K),
    ...get(S),
    ...F32STORE,
    0x05,
    ...get(K),
    ...F32LOAD,
    ...set(S),
    0x0b,
    ...get(S),
    ...get(BEST),
    ...F32GT,
    0x04,
    0x40,
    ...get(S),
    ...set(BEST),
    ...get(I),
    ...set(BI),
    0x0b,
    ...get(P),
    ...get(DB),
    ...I32ADD,
    ...set(P),
    ...get(I),
    ...i32c(1),
    ...I32ADD,
    ...set(I),
    0x0c,
    0,
    0x0b,
    0x0b, // br loop; end loop; end block
    ...get(BI),
    0x0b,
  );
  const locals = vec([
    [4, I32],
    [2, F32],
    [5, V128],
  ]);
  const code = [...locals, ...body];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([[I32]])]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, 1]])),
    ...section(
      7,
      vec([
        [...str('update'), 0x00, 0],
        [...str('memory'), 0x02, 0],
      ]),
    ),
    ...section(10, vec([[...u(code.length), ...code]])),
  ]);
}

let compiled: WebAssembly.Module | undefined;

/** A kernel instance with its own memory: rows (padded), then δ². */
export class MinUpdate {
  private readonly mem: WebAssembly.Memory;
  private readonly fn: (z: number, n: number, db: number, c: number, d: number) => number;
  private f32 = new Float32Array(0);
  private rows = 0;
  readonly dimP: number;

  constructor(readonly dim: number) {
    compiled ??= new WebAssembly.Module(moduleBytes());
    const inst = new WebAssembly.Instance(compiled, {});
    this.mem = inst.exports.memory as WebAssembly.Memory;
    this.fn = inst.exports.update as MinUpdate['fn'];
    this.dimP = paddedDim(dim);
  }

  /** Copy rows `rowsOf` of z (rows of `dim` floats) in, padded; δ² set to +∞. Returns the δ² view. */
  load(z: Float32Array, rowsOf: ArrayLike<number>): Float32Array {
    const n = rowsOf.length,
      { dim, dimP } = this;
    const need = n * dimP * 4 + n * 4;
    if (need > this.mem.buffer.byteLength) this.mem.grow(Math.ceil((need - this.mem.buffer.byteLength) / 65536));
    this.f32 = new Float32Array(this.mem.buffer);
    const f = this.f32;
    for (let r = 0; r < n; r++) {
      const src = rowsOf[r] * dim,
        dst = r * dimP;
      for (let k = 0; k < dim; k++) f[dst + k] = z[src + k];
      for (let k = dim; k < dimP; k++) f[dst + k] = 0;
    }
    this.rows = n;
    return this.delta().fill(Infinity);
  }

  /** The δ² of the loaded rows (a view; valid until the next load). */
  delta(): Float32Array {
    return this.f32.subarray(this.rows * this.dimP, this.rows * this.dimP + this.rows);
  }

  /** δ² ← min(δ², ‖row − row c‖²) for every loaded row; returns the argmax of δ² (−1 if none). */
  update(c: number): number {
    const rb = this.dimP * 4;
    return this.fn(0, this.rows, rb, c * rb, this.rows * rb);
  }
}

/** The kernel's plain version on a padded copy (rows of `dim` = dimP floats): same float32 operations in the same order. */
export function minUpdateRef(padded: Matrix, c: number, d: Float32Array): number {
  const { data: f, n, dim: dimP } = padded;
  const fr = Math.fround,
    acc = new Float32Array(16);
  let best = -1,
    bi = -1;
  for (let i = 0; i < n; i++) {
    acc.fill(0);
    for (let k = 0; k < dimP; k += 16)
      for (let q = 0; q < 16; q++) {
        const x = fr(f[i * dimP + k + q] - f[c * dimP + k + q]);
        acc[q] = fr(acc[q] + fr(x * x));
      }
    const l = [0, 1, 2, 3].map((j) => fr(fr(acc[j] + acc[4 + j]) + fr(acc[8 + j] + acc[12 + j])));
    const s = fr(fr(l[0] + l[1]) + fr(l[2] + l[3]));
    if (d[i] > s) d[i] = s;
    if (d[i] > best) {
      best = d[i];
      bi = i;
    }
  }
  return bi;
}
