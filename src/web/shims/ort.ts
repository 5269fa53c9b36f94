// onnxruntime-node's place in the browser bundle: onnxruntime-web. Its WASM backend (SIMD, and
// threads when the page is cross-origin isolated) serves by default; `useWebGpu()` routes every
// session created afterwards through ORT's WebGPU build instead (which runs the operators WebGPU
// lacks on its own WASM). 'cpu' is the WASM backend in both, so src/onnx/session.ts runs unchanged.
import * as wasm from 'onnxruntime-web/wasm';

export let InferenceSession = wasm.InferenceSession;
export let Tensor = wasm.Tensor;
export let env = wasm.env;

/** Switch to the WebGPU build (loaded on demand), keeping the WASM settings made so far. */
export async function useWebGpu(): Promise<void> {
  const gpu = await import('onnxruntime-web/webgpu');
  gpu.env.wasm.wasmPaths = env.wasm.wasmPaths;
  gpu.env.wasm.numThreads = env.wasm.numThreads;
  gpu.env.logLevel = env.logLevel;
  InferenceSession = gpu.InferenceSession;
  Tensor = gpu.Tensor;
  env = gpu.env;
}
