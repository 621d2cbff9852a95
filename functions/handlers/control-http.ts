/**
 * controlHttp: the operator API over HTTP (IAM-protected in production).
 *   POST {rolloutId, command, actor, reason}   → the command's result
 *   GET  ?rolloutId=ID                          → the rollout and its history
 *   GET                                         → active rollouts (one per locked route)
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import { control, parseControl } from '../app/control.ts';
import { traceFields } from '../app/log.ts';
import { RefusedError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { sendError, sendJson } from './http.ts';
import { startRetry } from './retry.ts';

export function controlHttpHandler(rt: Runtime) {
  return async (req: Request, res: Response): Promise<void> => {
    const log = rt.log.child({
      function: 'controlHttp',
      ...traceFields(rt.config.project, req.get('traceparent'), req.get('x-cloud-trace-context')),
    });
    try {
      if (req.method === 'GET') {
        const id = typeof req.query['rolloutId'] === 'string' ? req.query['rolloutId'] : null;
        if (id === null) {
          sendJson(res, 200, { active: await rt.store.findActive({}) });
          return;
        }
        const rollout = await rt.store.get(id);
        if (rollout === null)
          throw new RefusedError(`no rollout ${id}`, { code: 'ROLLOUT_NOT_FOUND', hint: 'check the id' });
        sendJson(res, 200, { rollout, history: await rt.store.history(id) });
        return;
      }
      const request = parseControl(req.body);
      const requestId =
        req.get('x-request-id') ?? `http-${rt.clock()}-${Math.random().toString(36).slice(2)}`;
      const result = await control(
        { store: rt.store, driver: rt.driver, startRetry: startRetry(rt, requestId) },
        request,
      );
      log.info(
        `${request.command} by ${request.actor}: ${result.applied ? 'applied' : (result.reason ?? 'no change')}`,
        {
          rolloutId: request.rolloutId,
        },
      );
      sendJson(res, 200, result);
    } catch (error) {
      sendError(res, error, log);
    }
  };
}
