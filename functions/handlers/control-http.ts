/**
 * controlHttp: the operator API over HTTP (IAM-protected in production).
 *   POST {rolloutId, command, actor, reason}   → the command's result (an abort may add gradual, hold)
 *   GET  ?rolloutId=ID                          → the rollout and its history
 *   GET                                         → active rollouts (one per locked route)
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import { control, parseControl } from '../app/control.ts';
import { requireRolloutId } from '../app/ids.ts';
import { activeRollouts, rolloutStatus } from '../app/status.ts';
import type { Runtime } from '../runtime.ts';
import { requestLog, sendError, sendJson } from './http.ts';
import { startRetry } from './retry.ts';

export function controlHttpHandler(rt: Runtime) {
  return async (req: Request, res: Response): Promise<void> => {
    const log = requestLog(rt, 'controlHttp', req);
    try {
      if (req.method === 'GET') {
        const id = req.query['rolloutId'] === undefined ? null : requireRolloutId(req.query['rolloutId']);
        sendJson(
          res,
          200,
          id === null ? await activeRollouts(rt) : await rolloutStatus(rt, { rolloutId: id }),
        );
        return;
      }
      const request = parseControl(req.body);
      const requestId =
        req.get('x-request-id') ?? `http-${rt.clock()}-${Math.random().toString(36).slice(2)}`;
      const result = await control({ ...rt, log, startRetry: startRetry(rt, requestId) }, { request });
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
