// Browser stand-in for node:crypto: sha256 (bank file names and checksums) from @noble/hashes,
// which is synchronous as the Node API is (SubtleCrypto is async and needs a secure context).
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export function createHash(algorithm: string) {
  if (algorithm !== 'sha256') throw new Error(`createHash: only sha256 in the browser, not ${algorithm}`);
  const h = sha256.create();
  const api = {
    update(d: Uint8Array | string) {
      h.update(typeof d === 'string' ? new TextEncoder().encode(d) : d);
      return api;
    },
    digest(enc: string) {
      if (enc !== 'hex') throw new Error('digest: hex only');
      return bytesToHex(h.digest());
    },
  };
  return api;
}
export function randomBytes(n: number) {
  const b = crypto.getRandomValues(new Uint8Array(n));
  return { toString: () => bytesToHex(b) };
}
export default { createHash, randomBytes };
