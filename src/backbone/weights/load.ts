// Read a checkpoint file of either supported format, chosen by its first bytes rather than its name.
import { promises as fs } from 'node:fs';
import { UserError } from '../../util/errors.js';
import { readSafetensors } from './safetensors.js';
import { readTorchPth } from './pth.js';
import { normaliseNames, type WeightMap } from './tensors.js';

export async function loadWeightsFile(file: string): Promise<WeightMap> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new UserError(`cannot read weights file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // 'PK' = zip (torch >= 1.6), 0x80 = pickle PROTO (legacy torch.save); safetensors starts with a length
  const isPth = (bytes[0] === 0x50 && bytes[1] === 0x4b) || bytes[0] === 0x80;
  return normaliseNames(isPth ? readTorchPth(bytes, file) : readSafetensors(bytes, file));
}
