// A large MVTec-layout test set made of a small one: every test image and mask linked `--times`
// times under new names, training images linked once. Eval's memory grows with the test images,
// so this measures it at a size no shared set has (docs/RESULTS.md#eval-in-bounded-memory).
//   npm run bench -- repeated-set --data ../shared/datasets/mvtec3d_tire --times 12 --out /tmp/tire-x12
//   /usr/bin/time -v node dist/src/cli/main.js eval --data /tmp/tire-x12 --runs 7 --json --quiet
import fs from 'node:fs';
import path from 'node:path';
import { arg } from '../lib/args.js';

const src = path.resolve(arg('data', '../shared/datasets/mvtec3d_tire'));
const times = Number(arg('times', '12'));
const out = path.resolve(arg('out', `/tmp/${path.basename(src)}-x${times}`));
if (fs.existsSync(out)) throw new Error(`${out} exists: remove it or name another --out`);
fs.mkdirSync(path.join(out, 'test'), { recursive: true });
fs.symlinkSync(path.join(src, 'train'), path.join(out, 'train'));
let images = 0,
  masks = 0;
for (const type of fs.readdirSync(path.join(src, 'test'))) {
  fs.mkdirSync(path.join(out, 'test', type));
  const gt = path.join(src, 'ground_truth', type);
  if (fs.existsSync(gt)) fs.mkdirSync(path.join(out, 'ground_truth', type), { recursive: true });
  for (const file of fs.readdirSync(path.join(src, 'test', type)))
    for (let c = 1; c <= times; c++) {
      fs.symlinkSync(path.join(src, 'test', type, file), path.join(out, 'test', type, `c${c}_${file}`));
      images++;
      const stem = path.parse(file).name,
        mask = path.join(gt, `${stem}_mask.png`);
      if (!fs.existsSync(mask)) continue;
      fs.symlinkSync(mask, path.join(out, 'ground_truth', type, `c${c}_${stem}_mask.png`));
      masks++;
    }
}
console.log(`${out}: ${images} test images (${masks} masks), training images linked from ${src}`);
