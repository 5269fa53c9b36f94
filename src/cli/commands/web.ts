import { BACKBONE_OPTIONS, WEIGHTS } from '../args.js';
import { required, type CommandSpec } from '../options.js';
import { resolveBackbone } from '../../backbone/index.js';
import { checkOutputDir } from '../../util/atomic.js';
import { buildSite } from '../../web/build.js';
import { runCommand } from './common.js';

const WEB_OPTIONS = {
  out: required('DIR', 'the folder to write the static site into', 'a folder to write'),
  backbone: BACKBONE_OPTIONS.backbone,
  weights: WEIGHTS,
} as const;

export const WEB: CommandSpec<typeof WEB_OPTIONS> = {
  name: 'web',
  usage: '--out DIR [--backbone ID]',
  about:
    "Writes the browser studio, a self-contained static site: fit on good images, inspect test\nimages, download the model (.zip that predict/serve read) or open a CLI-fitted one, all in\nthe browser tab (ONNX Runtime WASM). Host DIR on any static server, or 'serve --studio DIR'.\nDIR/index.html?selftest fits and scores the built-in synthetic set. The page's backbone must be\nthe one its models use.",
  options: WEB_OPTIONS,
};

export const webCommand = runCommand(WEB, async (v) => {
  await checkOutputDir('--out', v.out);
  const backbone = await resolveBackbone({ id: v.backbone ?? 'inception_v3', weights: v.weights });
  const files = await buildSite({ out: v.out, backbone });
  const mb = files.reduce((s, f) => s + f.bytes, 0) / 1e6;
  process.stdout.write(
    `wrote ${files.length} files (${mb.toFixed(1)} MB, backbone ${backbone.spec.id}) to ${v.out}; open index.html over http(s), or run 'patchcore serve --model M --studio ${v.out}'\n`,
  );
  return 0;
});
