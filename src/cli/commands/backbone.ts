import { helpText, oneOf, text, type CommandSpec } from '../options.js';
import { runCommand } from './common.js';
import { backboneEntry, backboneIds } from '../../backbone/index.js';
import { listTorchvisionBackbones, fetchWeights, type TorchvisionArch } from '../../backbone/torchvision.js';
import { cached, cacheDir, verify } from '../../backbone/cache.js';
import * as path from 'node:path';
import { invalid, UserError } from '../../util/errors.js';

const BACKBONE_CMD_OPTIONS = {
  weights: text('FILE', 'fetch: use a weights file you have (.pth or .safetensors) instead of downloading'),
} as const;

export const BACKBONE: CommandSpec<typeof BACKBONE_CMD_OPTIONS> = {
  name: 'backbone',
  usage: 'list | fetch wide_resnet50_2|resnet18 [--weights FILE]',
  about:
    "list: each backbone's layers, input size, normalisation, download size and cache state.\nfetch: download (resumable, sha256-verified) and build the ONNX graph; --weights uses a file you have.",
  options: BACKBONE_CMD_OPTIONS,
  positionals: true,
};

const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;

export const backboneCommand = runCommand(BACKBONE, async (v, positionals) => {
  const [sub, arch] = positionals;
  if (!sub) {
    process.stdout.write(helpText(BACKBONE));
    return 1;
  }
  if (sub === 'list') {
    const tv = new Map(listTorchvisionBackbones().map((b) => [b.name as string, b]));
    process.stdout.write('| backbone | layers | input | normalisation | download | cached |\n|---|---|---|---|---|---|\n');
    for (const id of backboneIds()) {
      const e = backboneEntry(id);
      const t = tv.get(id);
      const norm = e.spec.std[0] === 1 ? 'RGB/255' : `ImageNet mean/std`;
      const graph = t && !t.cached ? null : await verify(path.join(cacheDir(), e.cacheName({})));
      const state = t ? (t.cached ? `weights yes, graph ${graph ? 'yes' : 'no'}` : 'no') : graph ? 'graph yes' : 'built on first use';
      process.stdout.write(`| ${id} | ${e.spec.layers.join(', ')} | 224 | ${norm} | ${t ? mb(t.downloadBytes) : 'none (bundled in nsfwjs)'} | ${state} |\n`);
    }
    process.stdout.write('| FILE.onnx | --layers A,B | --input-size | --mean/--std | — | — |\n');
    return 0;
  }
  if (sub === 'fetch') {
    const known = listTorchvisionBackbones().map((b) => b.name as string);
    if (!arch || !known.includes(arch)) throw invalid('backbone fetch ARCH', oneOf(known), arch);
    const opts = { weights: v.weights };
    const weights = opts.weights ?? (await fetchWeights(arch as TorchvisionArch));
    const e = backboneEntry(arch);
    const file = await cached(e.cacheName(opts), () => e.build(opts));
    process.stdout.write(`${arch}: weights ${weights}\n${arch}: graph ${file.path} (sha256 ${file.hash.slice(0, 16)}…)\n`);
    return 0;
  }
  throw new UserError(`backbone: unknown subcommand '${sub}' (list or fetch)`);
});
