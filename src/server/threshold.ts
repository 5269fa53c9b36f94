// PUT /v1/threshold {"threshold": T}: the page's slider saved into the model. Only a server started
// with a token (every /v1 call then needs it) and a model directory may change what verdicts mean.
import type { FastifyInstance } from 'fastify';
import type { PatchCore } from '../model/patchcore.js';
import { manualThreshold } from '../model/patchcore.js';
import { HttpError } from './http-error.js';

export function registerThreshold(
  app: FastifyInstance,
  o: { model: PatchCore; modelDir?: string; token?: string; onChange?: (previous: number, source: string) => void },
): void {
  app.put<{ Body: unknown }>('/v1/threshold', async (req) => {
    if (!o.token || !o.modelDir)
      throw new HttpError(
        403,
        'read_only',
        'this server cannot change the model: start it with --token (and without --threshold) to save thresholds from the page',
      );
    const body = req.body as { threshold?: unknown } | null;
    const t = body?.threshold;
    if (typeof t !== 'number' || !Number.isFinite(t))
      throw new HttpError(400, 'bad_input', `Expected a finite number for threshold but received ${JSON.stringify(t) ?? 'nothing'}`);
    const before = { threshold: o.model.config.threshold, info: o.model.config.thresholdInfo };
    o.model.setThreshold(t, manualThreshold('web page'));
    try {
      await o.model.saveConfig(o.modelDir);
    } catch (e) {
      o.model.setThreshold(before.threshold, before.info); // what is served stays what is saved
      throw e;
    }
    o.onChange?.(before.threshold, 'web page');
    return { threshold: t, model_id: o.model.modelId, thresholdInfo: o.model.config.thresholdInfo };
  });
}
