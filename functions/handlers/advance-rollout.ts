/**
 * advanceRollout (HTTP, called by the rollout's workflow with {"rolloutId": "…"}). Cloud Run's IAM
 * lets only the workflow's service account invoke it; the function also identifies the caller from
 * its ID token (handlers/identity.ts) and, when DRIVER_PRINCIPALS is set, refuses (403) any other.
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import { advance } from '../app/advance.ts';
import { rolloutNotFound } from '../app/status.ts';
import { describeCaller, directPrincipals } from '../core/caller.ts';
import { ROLLOUT_ID } from '../core/validation.ts';
import { ForbiddenError, InvalidInputError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { executionOf, onlyFields } from './body-fields.ts';
import { bodyObject, requestLog, sendError, sendJson } from './http.ts';
import { identify, type VerifiedCaller } from './identity.ts';

/** Refuses a verified caller that is not one of the configured drivers (none configured: any). */
function checkDriver(rt: Runtime, caller: VerifiedCaller): void {
  const drivers = rt.config.identity.drivers.map((d) => d.toLowerCase());
  if (drivers.length === 0 || drivers.includes(caller.email)) return;
  throw new ForbiddenError(
    `${describeCaller(caller)} may not drive rollouts: advanceRollout accepts only DRIVER_PRINCIPALS`,
    directPrincipals(caller),
    "only the rollout workflow's service account calls advanceRollout; operators use controlHttp or rollout-control",
  );
}

export function advanceRolloutHandler(rt: Runtime) {
  const callerOf = identify(rt.config.identity, rt.clock);
  return async (req: Request, res: Response): Promise<void> => {
    const log = requestLog(rt, 'advanceRollout', req);
    try {
      checkDriver(rt, await callerOf(req));
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
