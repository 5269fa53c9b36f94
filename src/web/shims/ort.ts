// onnxruntime-node's place in the browser bundle: onnxruntime-web's WASM backend (SIMD, and
// threads when the page is cross-origin isolated). 'cpu' is registered there as the WASM backend,
// so src/onnx/session.ts runs unchanged.
export * from 'onnxruntime-web/wasm';
