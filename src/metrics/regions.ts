// 8-connected labelling of ground-truth defect regions (like scipy.ndimage.label with a 3×3 structure).

export interface Regions {
  /** Per pixel: 0 = good, 1..count = region id. */
  labels: Int32Array;
  count: number;
  /** sizes[id] = pixel count of region id (sizes[0] unused). */
  sizes: number[];
}

/** Label the nonzero pixels of a row-major `width`×`height` mask by flood fill. */
export function labelRegions(mask: ArrayLike<number>, width: number, height: number): Regions {
  const labels = new Int32Array(width * height);
  const sizes = [0];
  const stack = new Int32Array(width * height);
  for (let start = 0; start < labels.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    const id = sizes.length;
    let size = 0,
      top = 0;
    labels[start] = id;
    stack[top++] = start;
    while (top > 0) {
      const p = stack[--top];
      size++;
      const x = p % width,
        y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (mask[q] !== 0 && labels[q] === 0) {
            labels[q] = id;
            stack[top++] = q;
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, count: sizes.length - 1, sizes };
}
