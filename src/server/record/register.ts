// The station's routes under /v1: the record (GET /v1/results…) and the station's own state.
import type { FastifyInstance } from 'fastify';
import type { StationServices } from './setup.js';
import { registerResults } from './routes.js';

export function registerStation(v1: FastifyInstance, s: StationServices): void {
  if (s.store) registerResults(v1, s.store);
  v1.get('/v1/station', async () => s.info());
}
