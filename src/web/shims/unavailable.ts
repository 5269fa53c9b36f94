// Browser stand-in for the Node modules the page never calls (sharp, worker_threads, zlib,
// module, url, util, OpenCV.js): importing them is harmless, calling them says why it fails.
function unavailable(): never {
  throw new Error('not available in the browser page');
}
export const Worker = class {
  constructor() {
    unavailable();
  }
};
export const workerData = undefined;
export const inflateRawSync = unavailable;
export const createRequire = () => unavailable;
export const fileURLToPath = unavailable;
export const pathToFileURL = unavailable;
export const promisify = unavailable;
export const parseArgs = unavailable;
export const inspect = (x: unknown) => String(x);
export default new Proxy(unavailable, { get: (_t, key) => (key === 'then' ? undefined : unavailable) });
