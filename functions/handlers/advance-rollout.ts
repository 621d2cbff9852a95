/**
 * advanceRollout (HTTP, called by the rollout's workflow with {"rolloutId": "…"}). In production
 * only the workflow's service account may invoke it (Cloud Run IAM), so no token is checked here.
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import { advance } from '../app/advance.ts';
import { traceFields } from '../app/log.ts';
import { InvalidInputError, RefusedError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { bodyObject, sendError, sendJson } from './http.ts';

const ID = /^[a-z0-9][-a-z0-9]{0,62}$/;

export function advanceRolloutHandler(rt: Runtime) {
  return async (req: Request, res: Response): Promise<void> => {
    const log = rt.log.child({
      function: 'advanceRollout',
      ...traceFields(rt.config.project, req.get('traceparent'), req.get('x-cloud-trace-context')),
    });
    try {
      if (req.method !== 'POST') {
        throw new InvalidInputError(
          `method ${req.method} not allowed`,
          [{ field: 'method', rule: 'must be POST' }],
          {
            code: 'METHOD_NOT_ALLOWED',
            hint: 'POST {"rolloutId": "…"}',
          },
        );
      }
      const body = bodyObject(req.body);
      const id = body['rolloutId'];
      if (typeof id !== 'string' || !ID.test(id)) {
        throw new InvalidInputError('rolloutId is missing or malformed', [
          { field: 'rolloutId', rule: 'must be a rollout id' },
        ]);
      }
      const execution = typeof body['execution'] === 'string' ? body['execution'].slice(0, 200) : null;
      const answer = await advance(
        rt.driver,
        id,
        execution ? `workflow:${execution}` : 'workflow',
        rt.config,
        rt.clock,
      );
      if (answer === null) {
        throw new RefusedError(`no rollout ${id}`, {
          code: 'ROLLOUT_NOT_FOUND',
          hint: 'the workflow was started for a rollout that does not exist',
        });
      }
      sendJson(res, 200, answer);
    } catch (error) {
      sendError(res, error, log);
    }
  };
}
