/**
 * The one transition function: (rollout, input, now) → decision. Pure and deterministic.
 * A change bumps the version by one and yields exactly one history entry; anything else is
 * an explicit "unchanged" with the reason, so no input is ever silently dropped.
 */

import type { Judgement } from './analysis/verdict.ts';
import type { Effect, Input, RouteObservation } from './inputs.ts';
import type { PlanStep } from './plan.ts';
import {
  computeNextActionAt,
  dueWindow,
  expectedWindow,
  holdEndsAt,
  isAnalysing,
  stepEvidenceSufficient,
} from './schedule.ts';
import {
  type EventType,
  type HistoryEntry,
  isTerminal,
  type PauseReason,
  type ResumeMode,
  type RollbackCause,
  type Rollout,
  type RouteIntent,
  type Status,
  snapshot,
} from './state.ts';
import { ALL_CANARY, ALL_STABLE, describeWeights, type Weights } from './weights.ts';

export type Decision =
  | {
      readonly kind: 'changed';
      readonly rollout: Rollout;
      readonly entry: HistoryEntry;
      readonly effects: readonly Effect[];
    }
  | { readonly kind: 'unchanged'; readonly reason: string; readonly effects: readonly Effect[] };

interface Change {
  readonly event: EventType;
  readonly reason: string;
  readonly status?: Status;
  readonly weights?: Weights;
  readonly intent?: RouteIntent | null;
  readonly analysis?: Rollout['analysis'];
  readonly stepStartedAt?: number | null;
  readonly driver?: Rollout['driver'];
  readonly lastAlert?: Rollout['lastAlert'];
  readonly verdict?: HistoryEntry['verdict'];
  readonly effects?: readonly Effect[];
}

function unchanged(r: Rollout, reason: string, effects: readonly Effect[] = []): Decision {
  const wait = r.nextActionAt;
  const withWait =
    effects.length === 0 && wait !== null ? [{ type: 'waitUntil', at: wait } as const] : effects;
  return { kind: 'unchanged', reason, effects: isTerminal(r.status.phase) ? [{ type: 'finish' }] : withWait };
}

function commit(r: Rollout, input: Input, now: number, change: Change): Decision {
  const draft: Rollout = {
    ...r,
    status: change.status ?? r.status,
    weights: change.weights ?? r.weights,
    intent: change.intent === undefined ? r.intent : change.intent,
    analysis: change.analysis ?? r.analysis,
    stepStartedAt: change.stepStartedAt === undefined ? r.stepStartedAt : change.stepStartedAt,
    driver: change.driver ?? r.driver,
    lastAlert: change.lastAlert === undefined ? r.lastAlert : change.lastAlert,
    version: r.version + 1,
    updatedAt: now,
  };
  const next: Rollout = { ...draft, nextActionAt: computeNextActionAt(draft) };
  const entry: HistoryEntry = {
    version: next.version,
    at: now,
    event: change.event,
    actor: input.actor,
    input: input.type,
    reason: change.reason,
    from: snapshot(r),
    to: snapshot(next),
    intent:
      next.intent && next.intent !== r.intent
        ? { purpose: next.intent.purpose, weights: next.intent.weights }
        : null,
    verdict: change.verdict ?? null,
  };
  const effects: Effect[] = [...(change.effects ?? []), { type: 'notify', entry }];
  if (isTerminal(next.status.phase)) effects.push({ type: 'finish' });
  return { kind: 'changed', rollout: next, entry, effects };
}

function newIntent(
  r: Rollout,
  now: number,
  purpose: RouteIntent['purpose'],
  weights: Weights,
  overwrite = purpose === 'rollback',
): RouteIntent {
  return {
    id: r.version + 1,
    purpose,
    weights,
    previous: r.weights,
    leaseUntil: now + r.plan.timing.leaseMs,
    attempts: 1,
    lastError: null,
    overwrite,
  };
}

function freshStepAnalysis(r: Rollout): Rollout['analysis'] {
  return { ...r.analysis, windowsJudged: 0, stepPasses: 0, stepCanaryRequests: 0, inconclusiveStreak: 0 };
}

function stepLabel(r: Rollout, index: number): string {
  return `step ${index + 1} of ${r.plan.steps.length}`;
}

/** Enter plan step `index`: apply its weights, stop at a gate, promote, or finish. */
function enterStep(
  r: Rollout,
  input: Input,
  now: number,
  index: number,
  why: string,
  overwrite = false,
): Decision {
  const step: PlanStep | undefined = r.plan.steps[index];
  if (step === undefined) {
    return commit(r, input, now, {
      event: 'rollout.succeeded',
      reason: `${why}; every step is done and both backends keep ${describeWeights(r.weights)}`,
      status: { phase: 'Succeeded' },
    });
  }
  switch (step.kind) {
    case 'gate':
      return commit(r, input, now, {
        event: 'rollout.paused',
        reason: `${why}; ${stepLabel(r, index)} is a manual gate${step.note ? ` (${step.note})` : ''}: resume or promote to continue`,
        status: {
          phase: 'Paused',
          step: index,
          reason: { kind: 'gate', note: step.note },
          resume: 'nextStep',
        },
      });
    case 'weight': {
      const intent = newIntent(r, now, 'step', step.weights, overwrite);
      return commit(r, input, now, {
        event: 'rollout.weights_applying',
        reason: `${why}; applying ${stepLabel(r, index)}: ${describeWeights(step.weights)}`,
        status: { phase: 'Progressing', step: index },
        intent,
        effects: [{ type: 'applyRoute', intent }],
      });
    }
    case 'promote': {
      const intent = newIntent(r, now, 'promote', ALL_CANARY);
      return commit(r, input, now, {
        event: 'rollout.promoting',
        reason: `${why}; promoting: canary takes all traffic and the stable destination is removed`,
        status: { phase: 'Promoting' },
        intent,
        effects: [{ type: 'applyRoute', intent }],
      });
    }
  }
}

function promoteNow(r: Rollout, input: Input, now: number, why: string): Decision {
  const intent = newIntent(r, now, 'promote', ALL_CANARY);
  return commit(r, input, now, {
    event: 'rollout.promoting',
    reason: `${why}; promoting: canary takes all traffic and the stable destination is removed`,
    status: { phase: 'Promoting' },
    intent,
    effects: [{ type: 'applyRoute', intent }],
  });
}

function rollBack(
  r: Rollout,
  input: Input,
  now: number,
  cause: RollbackCause,
  reason: string,
  verdict?: HistoryEntry['verdict'],
): Decision {
  const intent = newIntent(r, now, 'rollback', ALL_STABLE);
  return commit(r, input, now, {
    event: 'rollout.rolling_back',
    reason,
    status: { phase: 'RollingBack', cause },
    intent,
    effects: [{ type: 'applyRoute', intent }],
    ...(verdict ? { verdict } : {}),
  });
}

function pause(
  r: Rollout,
  input: Input,
  now: number,
  step: number,
  reason: PauseReason,
  resume: ResumeMode,
  why: string,
) {
  return commit(r, input, now, {
    event: 'rollout.paused',
    reason: why,
    status: { phase: 'Paused', step, reason, resume },
  });
}

/** Index of the step the rollout is on, for pausing during promotion. */
function stepIndexForPause(r: Rollout): number {
  const s = r.status;
  if (s.phase === 'Progressing' || s.phase === 'Paused') return s.step;
  return r.plan.steps.length - 1;
}

function backoffMs(r: Rollout, attempts: number): number {
  const { retryBaseMs, retryMaxMs } = r.plan.timing;
  return Math.min(retryMaxMs, retryBaseMs * 2 ** Math.max(0, attempts - 1));
}

function onDue(r: Rollout, input: Input, now: number): Decision {
  const s = r.status;
  if (s.phase === 'Pending') {
    return enterStep(r, input, now, 0, input.type === 'start' ? 'rollout started' : 'rollout picked up');
  }
  if (input.type === 'start') return unchanged(r, `already started (${s.phase})`);
  const intent = r.intent;
  if (intent !== null) {
    if (now < intent.leaseUntil) {
      return unchanged(
        r,
        `route change #${intent.id} to ${describeWeights(intent.weights)} is in progress until ${new Date(intent.leaseUntil).toISOString()}`,
      );
    }
    const renewed: RouteIntent = { ...intent, leaseUntil: now + r.plan.timing.leaseMs };
    return commit(r, input, now, {
      event: 'rollout.weights_retrying',
      reason: `taking over route change #${intent.id} (${describeWeights(intent.weights)}) after its lease ran out${
        intent.lastError ? ` (last error: ${intent.lastError})` : ''
      }; reading the route`,
      intent: renewed,
      effects: [{ type: 'readRoute', intent: renewed }],
    });
  }
  const window = dueWindow(r, now);
  if (window !== null) {
    return unchanged(r, `analysis window ${window.index} of ${stepLabelOrPhase(r)} is ready to measure`, [
      { type: 'measure', window },
    ]);
  }
  if (s.phase === 'Progressing') {
    if (r.stepStartedAt === null)
      return enterStep(r, input, now, s.step, 'step weights were never confirmed');
    const holdEnd = holdEndsAt(r);
    if (holdEnd !== null && now >= holdEnd && stepEvidenceSufficient(r)) {
      return enterStep(
        r,
        input,
        now,
        s.step + 1,
        `${stepLabel(r, s.step)} held with passing analysis (${r.analysis.stepCanaryRequests} canary requests)`,
      );
    }
    return unchanged(r, waitingReason(r, now));
  }
  if (s.phase === 'Paused') {
    return unchanged(r, `paused (${describePause(s.reason)}); resume, promote or abort to continue`, [
      { type: 'waitUntil', at: r.nextActionAt ?? now + r.plan.timing.pausedPollMs },
    ]);
  }
  // Promoting and RollingBack always carry an intent; reaching here means it was confirmed.
  return unchanged(r, `${s.phase} has nothing due`);
}

function stepLabelOrPhase(r: Rollout): string {
  const s = r.status;
  return s.phase === 'Progressing' || s.phase === 'Paused' ? stepLabel(r, s.step) : s.phase;
}

function waitingReason(r: Rollout, now: number): string {
  const holdEnd = holdEndsAt(r);
  const parts: string[] = [];
  if (holdEnd !== null && now < holdEnd) parts.push(`hold ends ${new Date(holdEnd).toISOString()}`);
  if (!stepEvidenceSufficient(r)) {
    const a = r.analysis;
    parts.push(
      `needs a passing window and ${r.plan.analysis.minRequests} canary requests (have ${a.stepCanaryRequests}, last verdict ${a.last?.verdict ?? 'none'})`,
    );
  }
  return `${stepLabelOrPhase(r)}: ${parts.join('; ') || 'waiting'}`;
}

function describePause(reason: PauseReason): string {
  switch (reason.kind) {
    case 'operator':
      return `by ${reason.actor}: ${reason.note}`;
    case 'gate':
      return `manual gate${reason.note ? `: ${reason.note}` : ''}`;
    case 'inconclusive':
      return `${reason.windows} inconclusive analysis windows in a row`;
    case 'drift':
      return `route edited outside the controller: ${reason.detail}`;
  }
}

function confirm(r: Rollout, input: Input, now: number, intent: RouteIntent): Decision {
  switch (intent.purpose) {
    case 'step':
      return commit(r, input, now, {
        event: 'rollout.weights_live',
        reason: `route confirmed at ${describeWeights(intent.weights)}`,
        weights: intent.weights,
        intent: null,
        stepStartedAt: now,
        analysis: freshStepAnalysis(r),
      });
    case 'promote':
      return commit(r, input, now, {
        event: 'rollout.succeeded',
        reason: 'route confirmed with all traffic on the canary; rollout succeeded',
        weights: intent.weights,
        intent: null,
        status: { phase: 'Succeeded' },
      });
    case 'rollback': {
      const s = r.status;
      const cause: RollbackCause =
        s.phase === 'RollingBack' ? s.cause : { kind: 'routeError', message: 'rollback outside RollingBack' };
      return commit(r, input, now, {
        event: cause.kind === 'abort' ? 'rollout.aborted' : 'rollout.rolled_back',
        reason: `route confirmed with all traffic on stable; ${cause.kind === 'abort' ? 'aborted' : 'rolled back'}`,
        weights: intent.weights,
        intent: null,
        status:
          cause.kind === 'abort'
            ? { phase: 'Aborted', actor: cause.actor, note: cause.note }
            : { phase: 'RolledBack', cause },
      });
    }
  }
}

function applyAgain(r: Rollout, input: Input, now: number, intent: RouteIntent, why: string): Decision {
  const attempts = intent.attempts + 1;
  if (intent.purpose !== 'rollback' && attempts > r.plan.timing.maxRouteAttempts) {
    const message = `gave up on ${describeWeights(intent.weights)} after ${intent.attempts} attempts${
      intent.lastError ? `: ${intent.lastError}` : ''
    }`;
    return rollBack(r, input, now, { kind: 'routeError', message }, `${message}; rolling back`);
  }
  const again: RouteIntent = { ...intent, attempts, leaseUntil: now + r.plan.timing.leaseMs };
  return commit(r, input, now, {
    event: 'rollout.weights_retrying',
    reason: `${why}; applying ${describeWeights(intent.weights)} again (attempt ${attempts})`,
    intent: again,
    effects: [{ type: 'applyRoute', intent: again }],
  });
}

function onRouteObserved(
  r: Rollout,
  input: Input,
  now: number,
  intentId: number,
  obs: RouteObservation,
): Decision {
  const intent = r.intent;
  if (intent === null || intent.id !== intentId) {
    return unchanged(
      r,
      `route observation for change #${intentId} is stale (current change: ${intent ? `#${intent.id}` : 'none'})`,
    );
  }
  switch (obs.kind) {
    case 'matchesIntent':
      return confirm(r, input, now, intent);
    case 'matchesPrevious':
      return applyAgain(r, input, now, intent, `route still shows ${describeWeights(intent.previous)}`);
    case 'drifted':
      if (intent.overwrite) {
        const why = intent.purpose === 'rollback' ? 'rollback wins' : 'the operator asked to replace it';
        return applyAgain(r, input, now, intent, `route shows something else (${obs.detail}); ${why}`);
      }
      return commit(r, input, now, {
        event: 'rollout.paused',
        reason: `route was edited outside the controller (${obs.detail}); paused without overwriting it`,
        status: {
          phase: 'Paused',
          step: stepIndexForPause(r),
          reason: { kind: 'drift', detail: obs.detail },
          resume: 'applyStep',
        },
        intent: null,
      });
  }
}

function onRouteFailed(
  r: Rollout,
  input: Input,
  now: number,
  intentId: number,
  error: { kind: string; message: string },
): Decision {
  const intent = r.intent;
  if (intent === null || intent.id !== intentId) {
    return unchanged(
      r,
      `route error for change #${intentId} is stale (current change: ${intent ? `#${intent.id}` : 'none'})`,
    );
  }
  if (error.kind === 'notFound') {
    return commit(r, input, now, {
      event: 'rollout.failed',
      reason: `route not found (${error.message}); nothing left to shift or restore`,
      status: { phase: 'Failed', error: `route not found: ${error.message}` },
      intent: null,
    });
  }
  const retryable = error.kind === 'transient' || error.kind === 'conflict';
  if (intent.purpose !== 'rollback') {
    if (!retryable) {
      return rollBack(
        r,
        input,
        now,
        { kind: 'routeError', message: `${error.kind}: ${error.message}` },
        `route change refused (${error.kind}: ${error.message}); rolling back`,
      );
    }
    if (intent.attempts >= r.plan.timing.maxRouteAttempts) {
      return applyAgain(
        r,
        input,
        now,
        { ...intent, lastError: `${error.kind}: ${error.message}` },
        'route change failed',
      );
    }
  }
  const wait = backoffMs(r, intent.attempts);
  return commit(r, input, now, {
    event: 'rollout.weights_retrying',
    reason: `route change #${intent.id} failed (${error.kind}: ${error.message}); trying again in ${Math.round(wait / 1000)}s`,
    intent: { ...intent, leaseUntil: now + wait, lastError: `${error.kind}: ${error.message}` },
  });
}

function onVerdict(
  r: Rollout,
  input: Input,
  now: number,
  window: { index: number; start: number; end: number },
  j: Judgement,
) {
  if (!isAnalysing(r)) {
    return unchanged(
      r,
      `verdict for window ${window.index} ignored: ${r.status.phase} with no settled canary traffic`,
    );
  }
  const expected = expectedWindow(r);
  if (window.start !== expected.start || window.index < expected.index) {
    return unchanged(
      r,
      `verdict for window ${window.index} is stale (expected window ${expected.index} from ${expected.start})`,
    );
  }
  const verdict: HistoryEntry['verdict'] = {
    verdict: j.verdict,
    summary: j.summary,
    window,
    evidence: j.evidence,
  };
  const a = r.analysis;
  const analysis: Rollout['analysis'] = {
    ...a,
    windowsJudged: window.index,
    judge: j.state,
    stepCanaryRequests: a.stepCanaryRequests + j.canaryRequests,
    stepPasses: a.stepPasses + (j.verdict === 'pass' ? 1 : 0),
    inconclusiveStreak: j.verdict === 'inconclusive' ? a.inconclusiveStreak + 1 : 0,
    last: { verdict: j.verdict, summary: j.summary, window, at: now, evidence: j.evidence },
  };
  if (j.verdict === 'fail') {
    return rollBack(
      { ...r, analysis },
      input,
      now,
      { kind: 'verdict', summary: j.summary },
      `analysis failed: ${j.summary}; rolling back`,
      verdict,
    );
  }
  const s = r.status;
  if (s.phase === 'Progressing' && analysis.inconclusiveStreak >= r.plan.analysis.inconclusiveLimit) {
    return commit(r, input, now, {
      event: 'rollout.paused',
      reason: `${analysis.inconclusiveStreak} inconclusive windows in a row (${j.summary}); paused: check the metrics source or traffic, then resume`,
      status: {
        phase: 'Paused',
        step: s.step,
        reason: { kind: 'inconclusive', windows: analysis.inconclusiveStreak },
        resume: 'continue',
      },
      analysis,
      verdict,
    });
  }
  return commit(r, input, now, {
    event: 'rollout.analysis',
    reason: `window ${window.index}: ${j.verdict} (${j.summary})`,
    analysis,
    verdict,
  });
}

function onControl(r: Rollout, input: Input & { type: 'control' }, now: number): Decision {
  const s = r.status;
  const who = input.actor;
  const note = input.note;
  switch (input.command) {
    case 'pause':
      if (s.phase === 'Progressing') {
        return pause(
          r,
          input,
          now,
          s.step,
          { kind: 'operator', actor: who, note },
          'continue',
          `paused by ${who}: ${note}`,
        );
      }
      if (s.phase === 'Pending') {
        return pause(
          r,
          input,
          now,
          0,
          { kind: 'operator', actor: who, note },
          'applyStep',
          `paused by ${who} before the first step: ${note}`,
        );
      }
      return unchanged(
        r,
        s.phase === 'Paused' ? 'already paused' : `cannot pause while ${s.phase}; abort to stop`,
      );
    case 'resume':
      if (s.phase !== 'Paused') return unchanged(r, `not paused (${s.phase}); nothing to resume`);
      switch (s.resume) {
        case 'nextStep':
          return enterStep(r, input, now, s.step + 1, `resumed by ${who}: ${note}`);
        case 'applyStep':
          // After a hand edit the operator has looked at the route: the step's weights replace it.
          return enterStep(r, input, now, s.step, `resumed by ${who}: ${note}`, s.reason.kind === 'drift');
        case 'continue':
          return commit(r, input, now, {
            event: 'rollout.resumed',
            reason: `resumed by ${who}: ${note}`,
            status: { phase: 'Progressing', step: s.step },
            analysis: { ...r.analysis, inconclusiveStreak: 0 },
          });
      }
      break;
    case 'promote':
      if (s.phase === 'Pending' || s.phase === 'Progressing' || s.phase === 'Paused') {
        return promoteNow(r, input, now, `promoted by ${who}: ${note}`);
      }
      return unchanged(
        r,
        s.phase === 'Promoting' ? 'already promoting' : `cannot promote while ${s.phase}; rollback wins`,
      );
    case 'abort':
      if (s.phase === 'RollingBack') return unchanged(r, 'already rolling back to stable');
      return rollBack(
        r,
        input,
        now,
        { kind: 'abort', actor: who, note },
        `aborted by ${who}: ${note}; restoring stable`,
      );
    case 'retry':
      return unchanged(
        r,
        `only a finished rollout (Failed, RolledBack, Aborted) can be retried; this one is ${s.phase}`,
      );
  }
  return unchanged(r, `unknown control command "${String(input.command)}"`);
}

export function transition(r: Rollout, input: Input, now: number): Decision {
  if (isTerminal(r.status.phase)) {
    const hint =
      input.type === 'control' && input.command === 'retry' ? '; a retry starts a new rollout' : '';
    return unchanged(r, `rollout is ${r.status.phase}; terminal phases never change${hint}`);
  }
  switch (input.type) {
    case 'start':
    case 'due':
      return onDue(r, input, now);
    case 'routeObserved':
      return onRouteObserved(r, input, now, input.intentId, input.observation);
    case 'routeFailed':
      return onRouteFailed(r, input, now, input.intentId, input.error);
    case 'verdict':
      return onVerdict(r, input, now, input.window, input.judgement);
    case 'alert': {
      const incident = input.incident;
      const lastAlert = {
        incidentId: incident.incidentId,
        policy: incident.policy,
        state: incident.state,
        at: now,
      };
      if (incident.state === 'closed') {
        return commit(r, input, now, {
          event: 'rollout.alert_closed',
          reason: `alert ${incident.policy} closed (${incident.summary})`,
          lastAlert,
        });
      }
      if (r.status.phase === 'RollingBack')
        return unchanged(r, `already rolling back; alert ${incident.policy} noted`);
      return rollBack(
        { ...r, lastAlert },
        input,
        now,
        {
          kind: 'alert',
          incidentId: incident.incidentId,
          policy: incident.policy,
          summary: incident.summary,
        },
        `alert ${incident.policy} opened (${incident.summary}); rolling back`,
      );
    }
    case 'control':
      return onControl(r, input, now);
    case 'driverAttached':
      if (r.driver.kind !== 'workflow')
        return unchanged(r, 'driven by the scheduler; no workflow execution to attach');
      if (r.driver.execution === input.execution)
        return unchanged(r, `execution ${input.execution} already attached`);
      return commit(r, input, now, {
        event: 'rollout.driver_attached',
        reason: `workflow execution ${input.execution} drives this rollout`,
        driver: { kind: 'workflow', execution: input.execution },
      });
  }
  return unchanged(r, `unknown input "${String((input as { type?: unknown }).type)}"`);
}
