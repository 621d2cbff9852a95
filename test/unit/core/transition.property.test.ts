/**
 * Invariants of the transition function over random sequences of what drivers, operators,
 * alerts and the route can do — including stale and duplicate deliveries.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../../functions/core/analysis/verdict.ts';
import type { FollowUp } from '../../../functions/core/decision.ts';
import type { ControlCommand, Input } from '../../../functions/core/inputs.ts';
import type { RolloutRequestInput } from '../../../functions/core/request.ts';
import { isAnalysing } from '../../../functions/core/schedule.ts';
import { isTerminal, type Rollout, type RouteIntent } from '../../../functions/core/state.ts';
import { type Decision, transition } from '../../../functions/core/transition.ts';
import { ALL_STABLE } from '../../../functions/core/weights.ts';
import { judgement, routeInput, routeShowing } from '../../support/drive.ts';
import { newRollout } from '../../support/fixtures.ts';

type Command =
  | { readonly k: 'advance'; readonly ms: number }
  | {
      readonly k: 'route';
      readonly outcome:
        | 'ok'
        | 'previous'
        | 'drift'
        | 'gone'
        | 'elsewhere'
        | 'transient'
        | 'denied'
        | 'notFound';
    }
  | { readonly k: 'judge'; readonly verdict: Verdict; readonly requests: number }
  | { readonly k: 'alert'; readonly state: 'open' | 'closed' }
  | { readonly k: 'control'; readonly command: ControlCommand; readonly gradual: boolean }
  | { readonly k: 'stale'; readonly intentId: number; readonly windowIndex: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ k: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400_000 }) }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('route' as const),
      outcome: fc.constantFrom(
        'ok',
        'ok',
        'ok',
        'previous',
        'drift',
        'gone',
        'elsewhere',
        'transient',
        'denied',
        'notFound',
      ),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('judge' as const),
      verdict: fc.constantFrom<Verdict>('pass', 'pass', 'pass', 'inconclusive', 'fail'),
      requests: fc.integer({ min: 0, max: 500 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('alert' as const), state: fc.constantFrom('open', 'closed') }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('control' as const),
      command: fc.constantFrom<ControlCommand>('pause', 'resume', 'promote', 'abort', 'retry'),
      gradual: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('stale' as const),
      intentId: fc.integer({ min: 0, max: 40 }),
      windowIndex: fc.integer({ min: 0, max: 5 }),
    }),
  },
);

const steps: fc.Arbitrary<RolloutRequestInput['steps']> = fc.constantFrom<RolloutRequestInput['steps']>(
  [
    { weight: 10, hold: '1m' },
    { weight: 50, hold: '2m' },
  ],
  [
    { gate: 'manual' as const },
    { weight: 20, hold: '0s' },
    { gate: 'manual' as const },
    { weight: 100, hold: '1m' },
  ],
  [{ weight: 5, hold: '5m' }],
  [
    { weight: 10, hold: '1m' },
    { weight: 25, hold: '1m' },
    { weight: 50, hold: '1m' },
  ],
);

interface Sim {
  r: Rollout;
  now: number;
  route: RouteIntent | null;
  measure: Extract<FollowUp, { kind: 'measure' }>['window'] | null;
}

/** An intent the rollout never recorded, for reports that arrive without a change in flight. */
const NO_INTENT: RouteIntent = {
  id: 0,
  purpose: 'step',
  weights: { stable: 90, canary: 10 },
  previous: { stable: 100, canary: 0 },
  leaseUntil: 0,
  attempts: 1,
  lastError: null,
  overwrite: false,
};

/** Route events: the only changes a terminal rollout can still record (putting a late write right). */
const ROUTE_EVENTS = [
  'rollout.weights_restoring',
  'rollout.weights_restored',
  'rollout.weights_retrying',
  'rollout.route_edited',
  'rollout.edit_overwritten',
];

function inputFor(sim: Sim, c: Command): Input {
  const actor = 'property';
  switch (c.k) {
    case 'advance':
      return { type: 'due', actor };
    case 'route': {
      const intent = sim.route ?? sim.r.intent ?? NO_INTENT;
      const intentId = intent.id;
      switch (c.outcome) {
        case 'ok':
          return routeInput(intent, intent.weights, true, actor);
        case 'previous':
          return routeInput(intent, intent.previous, true, actor);
        case 'drift':
          return routeInput(intent, { stable: 33, canary: 67 }, true, actor);
        case 'gone':
          return {
            type: 'routeObserved',
            actor,
            intent,
            written: false,
            route: { ...routeShowing(ALL_STABLE), rules: [] },
            pending: [],
          };
        case 'elsewhere': {
          // The managed rule as the intent wants it, and a rule a person added that routes to the canary.
          const route = routeShowing(intent.weights);
          const canaryRule = routeShowing({ stable: 0, canary: 100 }).rules[0];
          const rules = canaryRule
            ? [{ ...canaryRule, shape: '{"person":true}' }, ...route.rules]
            : route.rules;
          return {
            type: 'routeObserved',
            actor,
            intent,
            written: true,
            route: { ...route, rules },
            pending: [],
          };
        }
        case 'transient':
          return { type: 'routeFailed', actor, intentId, error: { kind: 'transient', message: '503' } };
        case 'denied':
          return {
            type: 'routeFailed',
            actor,
            intentId,
            error: { kind: 'permissionDenied', message: '403' },
          };
        case 'notFound':
          return { type: 'routeFailed', actor, intentId, error: { kind: 'notFound', message: '404' } };
      }
      break;
    }
    case 'judge': {
      const window = sim.measure ?? { index: 1, start: sim.now - 60_000, end: sim.now };
      return { type: 'verdict', actor, window, judgement: judgement(c.verdict, c.requests) };
    }
    case 'alert':
      return {
        type: 'alert',
        actor,
        incident: { incidentId: 'i', state: c.state, policy: 'p', condition: 'c', summary: 's' },
      };
    case 'control':
      return {
        type: 'control',
        actor,
        command: c.command,
        note: 'property',
        gradual: c.command === 'abort' && c.gradual ? { holdMs: 60_000 } : null,
      };
    case 'stale': {
      const id = c.intentId === sim.r.intent?.id ? c.intentId + 1000 : c.intentId;
      return routeInput({ ...NO_INTENT, id }, NO_INTENT.weights, false, actor);
    }
  }
  return { type: 'due', actor };
}

function checkStep(before: Rollout, decision: Decision, input: Input, now: number): void {
  // Deterministic: the same input at the same time decides the same thing.
  expect(transition(before, input, now)).toEqual(decision);
  if (isTerminal(before.status.phase)) {
    // Terminal phases never change; only a late write of the controller's own is put right.
    if (decision.kind === 'changed') {
      expect(decision.rollout.status).toEqual(before.status);
      expect(decision.rollout.weights).toEqual(before.weights);
      expect(ROUTE_EVENTS).toContain(decision.entry.event);
    } else {
      expect(decision.followUp).toEqual({ kind: 'none' });
    }
  }
  if (decision.kind === 'unchanged') {
    expect(decision.reason.length).toBeGreaterThan(0);
    return;
  }
  const after = decision.rollout;
  expect(after.version).toBe(before.version + 1);
  expect(decision.entry.version).toBe(after.version);
  expect(decision.entry.from.phase).toBe(before.status.phase);
  expect(decision.entry.to.phase).toBe(after.status.phase);
  // Weights only rise, except when a rollback or abort is confirmed, or a gradual abort's step down.
  if (after.weights.canary < before.weights.canary) {
    const steppedDown = after.status.phase === 'Aborting' && before.intent?.purpose === 'stepDown';
    if (!steppedDown) expect(['RolledBack', 'Aborted']).toContain(after.status.phase);
  }
  const newIntent = after.intent !== null && after.intent.id === after.version ? after.intent : null;
  if (newIntent?.purpose === 'stepDown') {
    // A step down only ever lowers the canary, and only during a gradual abort.
    expect(after.status.phase).toBe('Aborting');
    expect(newIntent.weights.canary).toBeLessThan(before.weights.canary);
    expect(newIntent.weights.canary).toBeGreaterThan(0);
  } else if (newIntent !== null && newIntent.purpose !== 'rollback') {
    expect(newIntent.weights.canary).toBeGreaterThanOrEqual(before.weights.canary);
  }
  // A rollout that can still act always says when; a terminal one never does.
  if (isTerminal(after.status.phase)) expect(after.nextActionAt).toBeNull();
  else if (after.status.phase === 'ActionRequired') expect(after.nextActionAt).toBeNull();
  else if (!heldWithoutAnalysis(after)) {
    expect(after.nextActionAt).not.toBeNull();
  }
}

/** Held (a pause, or a held gradual abort) with nothing to analyse and no route change: no driver is due. */
function heldWithoutAnalysis(r: Rollout): boolean {
  const s = r.status;
  const held = s.phase === 'Paused' || (s.phase === 'Aborting' && s.held !== null);
  return held && !isAnalysing(r) && r.intent === null;
}

function checkRollbackReachable(r: Rollout, now: number): void {
  if (isTerminal(r.status.phase)) return;
  const alert = transition(
    r,
    {
      type: 'alert',
      actor: 'x',
      incident: { incidentId: 'z', state: 'open', policy: 'p', condition: 'c', summary: 's' },
    },
    now,
  );
  const abort = transition(r, { type: 'control', command: 'abort', actor: 'x', note: '' }, now);
  const s = r.status;
  const waitingToRollBack = s.phase === 'ActionRequired' && s.resume.phase === 'RollingBack';
  for (const d of [alert, abort]) {
    // Already rolling back: an alert is noted; an abort of a rollback waiting for a person tries it again.
    if (s.phase === 'RollingBack' || (waitingToRollBack && d === alert)) expect(d.kind).toBe('unchanged');
    else {
      expect(d.kind).toBe('changed');
      if (d.kind === 'changed') expect(d.rollout.status.phase).toBe('RollingBack');
    }
  }
}

describe('transition invariants (property-based)', () => {
  it('hold for every sequence of driver, route, analysis, alert and operator inputs', () => {
    fc.assert(
      fc.property(steps, fc.array(command, { minLength: 1, maxLength: 80 }), (plan, commands) => {
        const start = Date.UTC(2026, 10, 23);
        const sim: Sim = {
          r: newRollout('prop', { steps: plan }, start).rollout,
          now: start,
          route: null,
          measure: null,
        };
        const seenVersions = [sim.r.version];
        for (const c of commands) {
          if (c.k === 'advance') sim.now += c.ms;
          const input = inputFor(sim, c);
          const before = sim.r;
          checkRollbackReachable(before, sim.now);
          const decision = transition(before, input, sim.now);
          checkStep(before, decision, input, sim.now);
          if (decision.kind === 'changed') {
            sim.r = decision.rollout;
            seenVersions.push(sim.r.version);
          }
          const f = decision.followUp;
          if (f.kind === 'applyRoute' || f.kind === 'readRoute' || f.kind === 'restoreRoute')
            sim.route = f.intent;
          if (f.kind === 'measure') sim.measure = f.window;
        }
        // Versions strictly increase along the whole run.
        for (let i = 1; i < seenVersions.length; i += 1) {
          expect(seenVersions[i]).toBe((seenVersions[i - 1] ?? 0) + 1);
        }
      }),
      { numRuns: 400, seed: 20261123 },
    );
  });

  it('reach a terminal phase from any state once the route cooperates and time passes', () => {
    fc.assert(
      fc.property(steps, fc.array(command, { maxLength: 40 }), (plan, commands) => {
        const start = Date.UTC(2026, 10, 23);
        const sim: Sim = {
          r: newRollout('prop', { steps: plan }, start).rollout,
          now: start,
          route: null,
          measure: null,
        };
        for (const c of commands) {
          if (c.k === 'advance') sim.now += c.ms;
          const d = transition(sim.r, inputFor(sim, c), sim.now);
          if (d.kind === 'changed') sim.r = d.rollout;
        }
        // An abort, then a cooperative route, always ends the rollout.
        const abort = transition(
          sim.r,
          { type: 'control', command: 'abort', actor: 'op', note: '' },
          sim.now,
        );
        if (abort.kind === 'changed') sim.r = abort.rollout;
        for (let i = 0; i < 5 && !isTerminal(sim.r.status.phase); i += 1) {
          sim.now += 600_000;
          const intent = sim.r.intent;
          const input: Input = intent
            ? routeInput(intent, intent.weights, true, 'op')
            : { type: 'due', actor: 'op' };
          const d = transition(sim.r, input, sim.now);
          if (d.kind === 'changed') sim.r = d.rollout;
        }
        expect(isTerminal(sim.r.status.phase)).toBe(true);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('end a gradual abort from any state: stepping down only, then Aborted or rolled back', () => {
    let steppedDown = 0;
    fc.assert(
      fc.property(
        steps,
        fc.integer({ min: 0, max: 40 }),
        fc.array(command, { maxLength: 10 }),
        (plan, forward, commands) => {
          const start = Date.UTC(2026, 10, 23);
          const sim: Sim = {
            r: newRollout('prop', { steps: plan }, start).rollout,
            now: start,
            route: null,
            measure: null,
          };
          // Some way along the plan with a cooperative route and passing windows, then anything.
          cooperate(sim, { type: 'due', actor: 'op' }, forward, () => {});
          for (const c of commands) {
            if (c.k === 'advance') sim.now += c.ms;
            const d = transition(sim.r, inputFor(sim, c), sim.now);
            if (d.kind === 'changed') sim.r = d.rollout;
          }
          const gradual: Input = {
            type: 'control',
            command: 'abort',
            actor: 'op',
            note: '',
            gradual: { holdMs: 60_000 },
          };
          cooperate(sim, gradual, 40, (before, d, input) => {
            checkStep(before, d, input, sim.now);
            if (d.kind === 'changed' && d.entry.intent?.purpose === 'stepDown') steppedDown += 1;
          });
          expect(isTerminal(sim.r.status.phase)).toBe(true);
        },
      ),
      { numRuns: 300, seed: 14 },
    );
    // The runs did step down (a plan with weights below the canary's), not only abort at once.
    expect(steppedDown).toBeGreaterThan(20);
  });
});

/** Feeds `first`, then what a cooperative driver would: the route as asked, passing windows, time. */
function cooperate(
  sim: Sim,
  first: Input,
  times: number,
  each: (before: Rollout, d: Decision, input: Input) => void,
): void {
  let input = first;
  for (let i = 0; i < times && !isTerminal(sim.r.status.phase); i += 1) {
    const before = sim.r;
    const d = transition(before, input, sim.now);
    each(before, d, input);
    if (d.kind === 'changed') sim.r = d.rollout;
    const intent = sim.r.intent;
    const measure = d.followUp.kind === 'measure' ? d.followUp.window : null;
    // A route change or a measurement is reported back at once; time passes between driver calls.
    if (intent === null && measure === null) sim.now += 40_000;
    input = intent
      ? routeInput(intent, intent.weights, true, 'op')
      : measure
        ? { type: 'verdict', actor: 'op', window: measure, judgement: judgement('pass', 500) }
        : { type: 'due', actor: 'op' };
  }
}
