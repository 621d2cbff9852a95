/**
 * A request's hooks as the plan stores them: every point listed (empty when none), durations in
 * milliseconds. `failAfter` is plan time (scaled like holds); a call's `timeout` is real network
 * time and never scaled.
 */
import { parseDurationSeconds } from './duration.ts';
import type { PlanHook, PlanHooks } from './hooks.ts';
import type { HookPoint, HookSpec, RolloutRequest } from './request.ts';

const ms = (text: string, scale: number): number =>
  Math.round(((parseDurationSeconds(text) ?? 0) * 1000) / scale);

function planHook(spec: HookSpec, timeScale: number): PlanHook {
  return {
    name: spec.name,
    url: spec.url,
    method: spec.method,
    timeoutMs: ms(spec.timeout, 1),
    retries: spec.retries,
    failAfterMs: 'failAfter' in spec ? ms(spec.failAfter, timeScale) : null,
    onFailure: 'onFailure' in spec ? spec.onFailure : null,
    failureLimit: 'failureLimit' in spec ? spec.failureLimit : null,
  };
}

/** The plan's hooks, or undefined when the request has none (the plan then has no `hooks`). */
export function normaliseHooks(request: RolloutRequest, timeScale: number): PlanHooks | undefined {
  const given = request.hooks;
  if (given === undefined) return undefined;
  const at = (point: HookPoint) => (given[point] ?? []).map((h) => planHook(h, timeScale));
  const hooks: PlanHooks = {
    preRollout: at('preRollout'),
    preStep: at('preStep'),
    check: at('check'),
    confirmPromotion: at('confirmPromotion'),
    postRollout: at('postRollout'),
    onRollback: at('onRollback'),
  };
  return Object.values(hooks).some((list) => list.length > 0) ? hooks : undefined;
}
