// Ground-truth masks on the anomaly map's pixels, for the pixel metrics.
import type { Geometry } from './preprocess.js';
import { loadMask } from './load.js';
import { UserError } from '../util/errors.js';

/**
 * Ground truth aligned with the map: the mask is resized (nearest neighbour) to the resized image
 * and cropped exactly like the image, so mask and map cover the same pixels. No file (a good image) gives
 * an all-zero mask.
 */
export async function alignedMask(file: string | undefined, g: Geometry): Promise<Uint8Array> {
  const out = new Uint8Array(g.cropW * g.cropH);
  if (!file) return out;
  const m = await loadMask(file);
  if (m.width !== g.origW || m.height !== g.origH) throw new UserError(`${file}: mask is ${m.width}x${m.height} but its image is ${g.origW}x${g.origH}`);
  for (let y = 0; y < g.cropH; y++) {
    const sy = Math.min(m.height - 1, Math.floor(((y + g.cropY + 0.5) * m.height) / g.resizedH));
    for (let x = 0; x < g.cropW; x++) {
      const sx = Math.min(m.width - 1, Math.floor(((x + g.cropX + 0.5) * m.width) / g.resizedW));
      out[y * g.cropW + x] = m.data[sy * m.width + sx];
    }
  }
  return out;
}
