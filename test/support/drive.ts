/** Helpers for driving the pure core in tests: inputs and assertions on decisions. */

import type { AnalysisWindow, Judgement, Verdict } from '../../functions/core/analysis/verdict.ts';
import type { Decision, FollowUp } from '../../functions/core/decision.ts';
import type { Input } from '../../functions/core/inputs.ts';
import type { RouteSnapshot } from '../../functions/core/routing/snapshot.ts';
import type { Rollout, RouteIntent } from '../../functions/core/state.ts';
import { transition } from '../../functions/core/transition.ts';
import type { Weights } from '../../functions/core/weights.ts';
import { backendName, RULE_SHAPE } from './fixtures.ts';

const STABLE = backendName('checkout-stable');
const CANARY = backendName('checkout-canary');

export function changed(d: Decision): Rollout {
  if (d.kind !== 'changed') throw new Error(`expected a change, got unchanged: ${d.reason}`);
  return d.rollout;
}

export function reasonOf(d: Decision): string {
  if (d.kind !== 'unchanged') throw new Error(`expected no change, got ${d.entry.event}: ${d.entry.reason}`);
  return d.reason;
}

export function followUp<K extends FollowUp['kind']>(d: Decision, kind: K): Extract<FollowUp, { kind: K }> {
  const f = d.followUp;
  if (f.kind !== kind) throw new Error(`expected a ${kind} follow-up, got ${f.kind}`);
  return f as Extract<FollowUp, { kind: K }>;
}

export const due = (actor = 'workflow:e1'): Input => ({ type: 'due', actor });

/** A route whose one rule splits `weights` between the fixtures' stable and canary (and routes to `others`). */
export function routeShowing(
  weights: Weights,
  others: readonly string[] = [],
  updateTime = 'u',
): RouteSnapshot {
  const destination = (name: string, weight: number) => ({ name, backend: name, weight, extras: '{}' });
  const destinations = [
    ...(weights.stable > 0 ? [destination(STABLE, weights.stable)] : []),
    ...(weights.canary > 0 ? [destination(CANARY, weights.canary)] : []),
    ...others.map((name) => destination(name, 1)),
  ];
  return {
    updateTime,
    rules: [{ destinations, shape: RULE_SHAPE }],
    shape: '{}',
    attachments: { meshes: [], gateways: [] },
  };
}

/** What a driver reports after writing (or reading) the route for the rollout's current intent. */
export function observed(r: Rollout, kind: 'matchesIntent' | 'matchesPrevious' = 'matchesIntent'): Input {
  const intent = r.intent;
  if (intent === null) throw new Error('the rollout has no route change in flight');
  return routeInput(intent, kind === 'matchesIntent' ? intent.weights : intent.previous);
}

/** The route shows `weights` after a write for `intent` (`written` false: only read). */
export function routeInput(
  intent: RouteIntent,
  weights: Weights,
  written = true,
  actor = 'workflow:e1',
): Input {
  return { type: 'routeObserved', actor, intent, written, route: routeShowing(weights), pending: [] };
}

export function judgement(verdict: Verdict, canaryRequests = 100, summary = `${verdict} window`): Judgement {
  return { verdict, summary, evidence: { canaryRequests }, canaryRequests, state: { seen: canaryRequests } };
}

export function verdictInput(window: AnalysisWindow, verdict: Verdict, canaryRequests = 100): Input {
  return { type: 'verdict', actor: 'workflow:e1', window, judgement: judgement(verdict, canaryRequests) };
}

/** Applies the input and the route confirmation its applyRoute follow-up asks for. */
export function applyAndConfirm(r: Rollout, input: Input, now: number): Rollout {
  const next = changed(transition(r, input, now));
  return next.intent ? changed(transition(next, observed(next), now)) : next;
}
