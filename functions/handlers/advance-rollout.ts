/**
 * advanceRollout (HTTP, called by the rollout's workflow with {"rolloutId": "…"}). In production
 * only the workflow's service account may invoke it (Cloud Run IAM), so no token is checked here.
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import { advance } from '../app/advance.ts';
import { rolloutNotFound } from '../app/status.ts';
import { ROLLOUT_ID } from '../core/validation.ts';
import { InvalidInputError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { executionOf, onlyFields } from './body-fields.ts';
import { bodyObject, requestLog, sendError, sendJson } from './http.ts';

export function advanceRolloutHandler(rt: Runtime) {
  return async (req: Request, res: Response): Promise<void> => {
    const log = requestLog(rt, 'advanceRollout', req);
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
      onlyFields(body, ['rolloutId', 'execution']);
      const id = body['rolloutId'];
      if (typeof id !== 'string' || !ROLLOUT_ID.test(id)) {
        throw new InvalidInputError('rolloutId is missing or malformed', [
          { field: 'rolloutId', rule: 'must be a rollout id' },
        ]);
      }
      const execution = executionOf(body['execution']);
      const answer = await advance({ ...rt, log }, { rolloutId: id, execution });
      if (answer === null) throw rolloutNotFound(id);
      sendJson(res, 200, answer);
    } catch (error) {
      sendError(res, error, log);
    }
  };
}
