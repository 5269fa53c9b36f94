import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timePixelMetrics } from '../bench/speed/metrics-speed.js';

test('all pixel metrics on 160 maps of 224×224 take < 5 s', () => {
  const { ms, result } = timePixelMetrics(160, 224);
  assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
  // Defects score +0.5 on U(0,1): AUROC = 1 − ½·0.5² = 0.875 in expectation.
  assert.ok(Math.abs((result.auroc.value ?? 0) - 0.875) < 0.01, JSON.stringify(result.auroc));
  assert.ok((result.aupro.value ?? 0) > 0.3);
});
