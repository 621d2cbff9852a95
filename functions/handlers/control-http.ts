/**
 * controlHttp: the operator API over HTTP (IAM-protected in production). Every request needs a
 * verified Google ID token (handlers/identity.ts): the command is recorded as the token's email;
 * a body's `actor` is kept only as the caller's claimed note.
 *   POST {rolloutId, command, reason, actor?}  → the command's result (an abort may add gradual, hold)
 *   GET  ?rolloutId=ID                          → the rollout and its history
 *   GET                                         → active rollouts (one per locked route)
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import { control, parseControl } from '../app/control.ts';
import { requireRolloutId } from '../app/ids.ts';
import { activeRollouts, rolloutStatus } from '../app/status.ts';
import { describeCaller } from '../core/caller.ts';
import type { Runtime } from '../runtime.ts';
import { requestLog, sendError, sendJson } from './http.ts';
import { identify } from './identity.ts';
import { startRetry } from './retry.ts';

export function controlHttpHandler(rt: Runtime) {
  const callerOf = identify(rt.config.identity, rt.clock);
  return async (req: Request, res: Response): Promise<void> => {
    const log = requestLog(rt, 'controlHttp', req);
    try {
      const verified = await callerOf(req);
      if (req.method === 'GET') {
        const id = req.query['rolloutId'] === undefined ? null : requireRolloutId(req.query['rolloutId']);
        sendJson(
          res,
          200,
          id === null ? await activeRollouts(rt) : await rolloutStatus(rt, { rolloutId: id }),
        );
        return;
      }
      const request = parseControl(req.body, 'optional');
      const caller = { ...verified, claimed: request.actor?.slice(0, 200) ?? null };
      const requestId =
        req.get('x-request-id') ?? `http-${rt.clock()}-${Math.random().toString(36).slice(2)}`;
      const result = await control(
        { ...rt, log, startRetry: startRetry(rt, requestId) },
        { request, caller },
      );
      log.info(
        `${request.command} by ${describeCaller(caller)}: ${result.applied ? 'applied' : (result.reason ?? 'no change')}`,
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
