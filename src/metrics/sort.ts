// Sorting helpers: every metric sorts its scores once (descending) and then walks tie groups.

/**
 * Order key of a float32 bit pattern such that ascending keys = descending scores.
 * -0 is folded onto +0 so that they tie (sklearn treats them as equal).
 */
export function descKey(bits: number): number {
  if (bits === 0x80000000) bits = 0;
  return (bits & 0x80000000 ? bits : ~bits & 0x7fffffff) >>> 0;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Inverse of descKey: the float32 score a key stands for. */
export function keyToScore(key: number): number {
  u32[0] = key & 0x80000000 ? key : ~key & 0x7fffffff;
  return f32[0];
}

/**
 * Stable LSD radix sort (11+11+10 bits). Returns the sorted keys and the permutation
 * (order[i] = original index of the i-th smallest key). `keys` is reused as scratch space.
 */
export function radixSort(keys: Uint32Array): { keys: Uint32Array; order: Uint32Array } {
  const n = keys.length;
  const c0 = new Uint32Array(2048),
    c1 = new Uint32Array(2048),
    c2 = new Uint32Array(1024);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    c0[k & 2047]++;
    c1[(k >>> 11) & 2047]++;
    c2[k >>> 22]++;
  }
  for (const c of [c0, c1, c2]) {
    let sum = 0;
    for (let b = 0; b < c.length; b++) {
      const t = c[b];
      c[b] = sum;
      sum += t;
    }
  }
  const kA = new Uint32Array(n),
    oA = new Uint32Array(n),
    oB = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    const p = c0[k & 2047]++;
    kA[p] = k;
    oA[p] = i;
  }
  const kB = keys;
  for (let i = 0; i < n; i++) {
    const k = kA[i];
    const p = c1[(k >>> 11) & 2047]++;
    kB[p] = k;
    oB[p] = oA[i];
  }
  for (let i = 0; i < n; i++) {
    const k = kB[i];
    const p = c2[k >>> 22]++;
    kA[p] = k;
    oA[p] = oB[i];
  }
  return { keys: kA, order: oA };
}

/** Indices of `scores` by descending score (small inputs: image-level scores). */
export function argsortDesc(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * Walk items in `order`; after each run of equal `sortedKey` values call `onGroup(first)`
 * with the sorted position of the run's first item. Thresholds = distinct scores.
 */
export function walkGroups(order: Uint32Array, sortedKey: ArrayLike<number>, onItem: (index: number) => void, onGroup: (first: number) => void): void {
  const n = order.length;
  for (let i = 0; i < n; ) {
    const k = sortedKey[i];
    let j = i;
    do onItem(order[j++]);
    while (j < n && sortedKey[j] === k);
    onGroup(i);
    i = j;
  }
}
