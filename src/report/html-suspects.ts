// The eval report's list of suspect training images (model/suspects.ts): the "good" images whose
// leave-one-out score looks like a defect's, with the bound they passed and how many were scored.
import type { Suspects } from '../model/suspects.js';
import { escapeXml } from './svg-plot.js';

export function suspectsHtml(s: Suspects | undefined): string {
  if (!s) return '';
  const sampled = s.scored < s.of ? `${s.scored} sampled of ${s.of} training images (fit --calibration-images 0 scores all)` : `all ${s.of} training images`;
  const note = `Leave-one-image-out scores of ${sampled} (last run), above ${s.bound.toFixed(4)}: the logistic tail at α = ${s.alpha}. A listed image may be a defective part in the good folder; fit --exclude-suspects leaves them out.`;
  const rows = s.images.map((x) => `<tr><td>${escapeXml(x.file)}</td><td class="num">${x.score.toFixed(4)}</td></tr>`).join('');
  const table = s.images.length ? `<table><tr><th>training image</th><th>score</th></tr>${rows}</table>` : '<p>None.</p>';
  return `<h2>Suspect training images (${s.images.length})</h2>\n<p class="note">${escapeXml(note)}</p>\n${table}\n`;
}
