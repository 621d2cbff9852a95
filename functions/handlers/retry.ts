/** A retry is started through the same path as a published rollout request. */
import type { ControlDeps } from '../app/control.ts';
import { startRollout } from '../app/start-rollout.ts';
import type { Runtime } from '../runtime.ts';

export function startRetry(rt: Runtime, messageId: string): ControlDeps['startRetry'] {
  return async (body, id, attempt, retryOf, actor, caller) => {
    const outcome = await startRollout(rt, { body, messageId, actor, attempt, retryOf, caller });
    if (outcome.rollout.id !== id) throw new Error(`retry created ${outcome.rollout.id}, expected ${id}`);
    return { id, phase: outcome.rollout.status.phase, version: outcome.rollout.version };
  };
}
