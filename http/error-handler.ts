// Maps every failure to one JSON shape: { error: { code, message, details? } }, with the status from the error
// catalogue (core/errors.ts). Users never see a stack trace; unexpected errors are logged without request data.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CustodianError } from '../core/errors.ts';
import { forAnonymous, logServerFault, toCustodianError } from '../core/framework-errors.ts';

export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    const err = new CustodianError('route_not_found', `there is no ${req.method} ${req.url.split('?')[0]} here`);
    return reply.code(err.status).send(err.toJSON());
  });

  app.setErrorHandler((error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const err = toCustodianError(error);
    logServerFault(req, error, err);
    const answer = req.staff ? err : forAnonymous(err);
    return reply.code(answer.status).send(answer.toJSON());
  });
}
