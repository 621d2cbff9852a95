/** Helpers for driving the pure core in tests: inputs and assertions on decisions. */

import type { AnalysisWindow, Judgement, Verdict } from '../../functions/core/analysis/verdict.ts';
import type { Effect, Input } from '../../functions/core/inputs.ts';
import type { Rollout } from '../../functions/core/state.ts';
import { type Decision, transition } from '../../functions/core/transition.ts';

export function changed(d: Decision): Rollout {
  if (d.kind !== 'changed') throw new Error(`expected a change, got unchanged: ${d.reason}`);
  return d.rollout;
}

export function reasonOf(d: Decision): string {
  if (d.kind !== 'unchanged') throw new Error(`expected no change, got ${d.entry.event}: ${d.entry.reason}`);
  return d.reason;
}

export function effect<T extends Effect['type']>(d: Decision, type: T): Extract<Effect, { type: T }> {
  const found = d.effects.find((e): e is Extract<Effect, { type: T }> => e.type === type);
  if (!found)
    throw new Error(`expected a ${type} effect, got ${d.effects.map((e) => e.type).join(', ') || 'none'}`);
  return found;
}

export const due = (actor = 'workflow:e1'): Input => ({ type: 'due', actor });

export function observed(r: Rollout, kind: 'matchesIntent' | 'matchesPrevious' = 'matchesIntent'): Input {
  return {
    type: 'routeObserved',
    actor: 'workflow:e1',
    intentId: r.intent?.id ?? -1,
    observation: { kind, updateTime: 'u' },
  };
}

export function judgement(verdict: Verdict, canaryRequests = 100, summary = `${verdict} window`): Judgement {
  return { verdict, summary, evidence: { canaryRequests }, canaryRequests, state: { seen: canaryRequests } };
}

export function verdictInput(window: AnalysisWindow, verdict: Verdict, canaryRequests = 100): Input {
  return { type: 'verdict', actor: 'workflow:e1', window, judgement: judgement(verdict, canaryRequests) };
}

/** Applies the input and the route confirmation its applyRoute effect asks for. */
export function applyAndConfirm(r: Rollout, input: Input, now: number): Rollout {
  const next = changed(transition(r, input, now));
  return next.intent ? changed(transition(next, observed(next), now)) : next;
}
