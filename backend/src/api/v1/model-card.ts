import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { CoreContext } from '../../context';
import type { DriftService } from '../../services/drift/service';
import { modelCard } from '../../services/modelcard';
import { ModelCard } from './contract-card';

const NameVersion = Type.Object({ name: Type.String({ minLength: 1, maxLength: 1000 }), version: Type.String({ minLength: 1, maxLength: 20 }) });

/** GET /api/v1/models/:name/versions/:version/card: the version's model card (the Models view's read-only page). */
export function modelCardRoutes(parent: FastifyInstance, opts: { ctx: CoreContext; drift: DriftService }): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/api/v1/models/:name/versions/:version/card', { schema: { params: NameVersion, response: { 200: ModelCard } } }, async (req) => modelCard(opts.ctx, opts.drift, req.params.name, req.params.version));
}
