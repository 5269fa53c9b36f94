// What the page says when the worker fails. A tab out of memory surfaces as a RangeError (an
// ArrayBuffer that cannot be allocated) or an ONNX Runtime / WASM allocation failure: say so, and what to do.
import { errorMessage } from '../util/errors.js';
import { MAX_TRAIN_IMAGES } from './protocol.js';

export function describe(e: unknown): string {
  const msg = errorMessage(e);
  if (e instanceof RangeError || /alloc|out of memory|memory access out of bounds/i.test(msg))
    return `out of memory in this tab (${msg}); fit on fewer images (at most ${MAX_TRAIN_IMAGES}) or a smaller coreset ratio, or use the CLI`;
  return msg;
}
