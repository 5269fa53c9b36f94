import { parse, str } from '../args.js';
import { buildSite } from '../../web/build.js';
import { backboneFromFlags, helpRequested } from './common.js';

const HELP = `patchcore web --out DIR [--backbone ID]
  Writes the browser studio, a self-contained static site: fit on good images, inspect test
  images, download the model (.zip that predict/serve read) or open a CLI-fitted one, all in
  the browser tab (ONNX Runtime WASM). Host DIR on any static server, or 'serve --studio DIR'.
  DIR/index.html?selftest fits and scores the built-in synthetic set.
  --backbone ID   the page's backbone (default inception_v3, as fit); models must use the same one
`;

export async function webCommand(argv: string[]): Promise<number> {
  const { values: v } = parse(argv, { out: { type: 'string' }, backbone: { type: 'string' }, weights: { type: 'string' } });
  if (helpRequested(v, HELP)) return 0;
  const out = str(v, 'out');
  const backbone = await backboneFromFlags(v);
  const files = await buildSite({ out, backbone });
  const mb = files.reduce((s, f) => s + f.bytes, 0) / 1e6;
  process.stdout.write(`wrote ${files.length} files (${mb.toFixed(1)} MB, backbone ${backbone.spec.id}) to ${out}; open index.html over http(s), or run 'patchcore serve --model M --studio ${out}'\n`);
  return 0;
}
