// TF/Keras convolution kernels (channels_last) -> ONNX Conv weights.
import type { WeightTensor } from './weights.js';

export interface OnnxKernel {
  W: Float32Array;
  dims: [number, number, number, number]; // OIHW
  group: number;
}

/**
 * Regular kernels are HWIO -> OIHW. Depthwise kernels are [kh, kw, cin, mult] -> [cin·mult, 1, kh, kw]
 * with group = cin: output channel i·mult+m reads only input channel i (TF's order).
 */
export function onnxKernel(k: WeightTensor, depthwise: boolean, cin: number): OnnxKernel {
  const [kh, kw, ci, co] = k.shape;
  if (ci !== cin) throw new Error(`kernel expects ${ci} input channels, input has ${cin}`);
  const out = depthwise ? ci * co : co;
  const inPer = depthwise ? 1 : ci;
  const W = new Float32Array(out * inPer * kh * kw);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) {
          const dst = depthwise ? ((i * co + o) * kh + y) * kw + x : ((o * ci + i) * kh + y) * kw + x;
          W[dst] = k.data[((y * kw + x) * ci + i) * co + o];
        }
  return { W, dims: [out, inPer, kh, kw], group: depthwise ? ci : 1 };
}
