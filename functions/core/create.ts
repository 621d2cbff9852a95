/**
 * Creating a rollout (version 1, Pending) and deriving the request of a retry.
 */
import type { Caller } from './caller.ts';
import { normalisePlan, type PlanContext } from './plan.ts';
import type { RolloutRequest } from './request.ts';
import { type HistoryEntry, isTerminal, type Rollout, snapshot } from './state.ts';
import { type RuleHint, routesOf } from './targets.ts';
import { describeWeights, type Weights } from './weights.ts';

export interface NewRollout {
  readonly id: string;
  readonly request: RolloutRequest;
  readonly context: PlanContext;
  /** Where the (first target's) managed rule was found when the rollout was accepted, and what it looked like. */
  readonly ruleIndex: number;
  readonly ruleShape: string;
  /** Where each target's managed rule was found, in the request's order (the first: as `ruleIndex`/`ruleShape`). */
  readonly ruleHints?: readonly RuleHint[];
  /** Weights read from the route when the rollout was accepted. */
  readonly weights: Weights;
  readonly now: number;
  readonly actor: string;
  /** Who asked for it and how that is known (recorded in the first history entry). */
  readonly caller?: Caller;
  readonly attempt?: number;
  readonly retryOf?: string;
}

export function createRollout(n: NewRollout): { rollout: Rollout; entry: HistoryEntry } {
  const rollout: Rollout = {
    id: n.id,
    spec: n.request,
    plan: normalisePlan(n.request, n.context),
    ruleIndex: n.ruleHints?.[0]?.index ?? n.ruleIndex,
    ruleShape: n.ruleHints?.[0]?.shape ?? n.ruleShape,
    ...(n.ruleHints === undefined ? {} : { ruleHints: n.ruleHints }),
    status: { phase: 'Pending' },
    weights: n.weights,
    intent: null,
    analysis: {
      windowsJudged: 0,
      windowsSettling: 0,
      splitSeen: false,
      stepCanaryRequests: 0,
      inconclusiveStreak: 0,
      judge: null,
      last: null,
    },
    driver: n.request.driver === 'workflow' ? { kind: 'workflow', execution: null } : { kind: 'scheduler' },
    version: 1,
    createdAt: n.now,
    updatedAt: n.now,
    stepStartedAt: null,
    nextActionAt: n.now,
    attempt: n.attempt ?? 1,
    retryOf: n.retryOf ?? null,
    lastAlert: null,
  };
  const entry: HistoryEntry = {
    version: 1,
    at: n.now,
    event: 'rollout.created',
    actor: n.actor,
    input: 'create',
    reason: `rollout of ${n.request.canary} on ${routesOf(n.request).join(', ')} accepted at ${describeWeights(n.weights)}${
      n.retryOf ? ` (attempt ${rollout.attempt}, retrying ${n.retryOf})` : ''
    }`,
    from: snapshot(rollout),
    to: snapshot(rollout),
    intent: null,
    verdict: null,
    ...(n.caller === undefined ? {} : { caller: n.caller }),
    ...(n.request.requestedBy === undefined ? {} : { requestedBy: n.request.requestedBy }),
  };
  return { rollout, entry };
}

export type RetryPlan =
  | { readonly ok: true; readonly id: string; readonly attempt: number; readonly request: RolloutRequest }
  | { readonly ok: false; readonly reason: string };

/** A retry is a new rollout with the same request: terminal rollouts never change. */
export function planRetry(r: Rollout): RetryPlan {
  if (!isTerminal(r.status.phase) || r.status.phase === 'Succeeded') {
    return {
      ok: false,
      reason: `only a Failed, RolledBack or Aborted rollout can be retried; ${r.id} is ${r.status.phase}`,
    };
  }
  const attempt = r.attempt + 1;
  const root = r.retryOf ?? r.id;
  const suffix = `-retry${attempt}`;
  const id = `${root.slice(0, 63 - suffix.length)}${suffix}`;
  return { ok: true, id, attempt, request: { ...r.spec, rolloutId: id } };
}
