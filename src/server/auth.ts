// Bearer-token check shared by /v1 and /v2: an onRequest hook, so an unauthenticated upload is
// refused before its body is read.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { HttpError } from './http-error.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function bearerGuard(token: string): onRequestHookHandler {
  const expected = digest(token);
  return async (req: FastifyRequest) => {
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    // equal-length digests: constant time
    if (!m || !timingSafeEqual(digest(m[1].trim()), expected))
      throw new HttpError(401, 'unauthorized', 'missing or wrong bearer token', { 'www-authenticate': 'Bearer' });
  };
}
