/**
 * Drives one rollout: feeds an input to the core, stores the decision, carries out its effects
 * (route changes, measurements, lifecycle events) and feeds their outcomes back, until nothing
 * more is due. Every driver — workflow, tick, alert, operator — goes through here.
 */
import type { Judge } from '../core/analysis/verdict.ts';
import type { Input } from '../core/inputs.ts';
import type { AnalysisPlan } from '../core/plan.ts';
import type { MetricSource } from '../core/request.ts';
import { isTerminal, type Rollout, type RouteIntent } from '../core/state.ts';
import { type Decision, transition } from '../core/transition.ts';
import { describeWeights, sameWeights, type Weights } from '../core/weights.ts';
import { ControllerError } from '../errors.ts';
import type { MetricsReader, TimeWindow } from '../ports/metrics-reader.ts';
import { DuplicateMessageError, type RolloutStore, VersionConflictError } from '../ports/rollout-store.ts';
import { RouteError, type RouteTarget, type TrafficRouter } from '../ports/traffic-router.ts';
import type { Lazy, LifecycleEvents } from './lifecycle-events.ts';
import type { Logger } from './log.ts';
import { observe } from './route-observation.ts';

export interface DriverDeps {
  readonly store: RolloutStore;
  readonly router: Lazy<TrafficRouter>;
  readonly metrics: Lazy<MetricsReader>;
  readonly judgeFor: (plan: AnalysisPlan) => Judge;
  readonly events: LifecycleEvents;
  readonly clock: () => number;
  readonly log: Logger;
}

export interface DriveOptions {
  /** Recorded with the first change so a redelivered message is recognised. */
  readonly dedupeKey?: string;
  /** Stop after deciding on this input and its effects instead of going on with whatever is due. */
  readonly only?: boolean;
}

export interface DriveResult {
  readonly rollout: Rollout;
  readonly transitions: number;
  /** Why the last decision changed nothing (e.g. "hold ends …"); null if the run ended on a change. */
  readonly reason: string | null;
  readonly duplicate: boolean;
}

const MAX_ITERATIONS = 25;
const MAX_CONFLICTS = 5;

function targetOf(r: Rollout): RouteTarget & { ruleIndex: number } {
  return { route: r.spec.route, ruleIndex: r.ruleIndex, stable: r.spec.stable, canary: r.spec.canary };
}

export class RolloutDriver {
  readonly #deps: DriverDeps;

  constructor(deps: DriverDeps) {
    this.#deps = deps;
  }

  /** Returns null when there is no rollout with this id. */
  async drive(id: string, first: Input, options: DriveOptions = {}): Promise<DriveResult | null> {
    const { store, clock, events } = this.#deps;
    let r = await store.get(id);
    if (r === null) return null;
    const log = this.#deps.log.child({ rolloutId: id });
    const publishing: Promise<void>[] = [];
    let input: Input | null = first;
    let dedupeKey = options.dedupeKey;
    let transitions = 0;
    let conflicts = 0;
    let reason: string | null = null;
    /** The intent this run wrote to the route, until the write is confirmed. */
    const wrote: { intent: RouteIntent | null } = { intent: null };

    try {
      for (let i = 0; input !== null && i < MAX_ITERATIONS; i += 1) {
        const current: Input = input;
        const decision: Decision = transition(r, current, clock());
        if (decision.kind === 'changed') {
          try {
            await store.commit(
              decision.rollout,
              decision.entry,
              dedupeKey === undefined ? {} : { dedupeKey },
            );
          } catch (error) {
            if (error instanceof DuplicateMessageError) {
              log.info('message already processed; nothing to do', { dedupeKey });
              return { rollout: r, transitions, reason: 'duplicate message', duplicate: true };
            }
            if (!(error instanceof VersionConflictError) || conflicts >= MAX_CONFLICTS) throw error;
            conflicts += 1;
            log.debug('another driver moved the rollout first; deciding again', { input: current.type });
            const fresh = await store.get(id);
            if (fresh === null) throw error;
            r = fresh;
            continue;
          }
          dedupeKey = undefined;
          r = decision.rollout;
          transitions += 1;
          reason = null;
          log.info(decision.entry.reason, {
            event: decision.entry.event,
            phase: r.status.phase,
            step: decision.entry.to.step,
            version: r.version,
            actor: current.actor,
            weights: r.weights,
          });
        } else {
          reason = decision.reason;
          log.debug(`no change: ${decision.reason}`, { input: current.type, phase: r.status.phase });
          const written = wrote.intent;
          if (written !== null && current.type === 'routeObserved' && current.intentId === written.id) {
            await this.#repairStaleWrite(r, written, log);
            wrote.intent = null;
          }
        }
        input = null;
        for (const effect of decision.effects) {
          switch (effect.type) {
            case 'notify':
              publishing.push(events.publish(r, effect.entry));
              break;
            case 'applyRoute':
              input = await this.#applyRoute(r, effect.intent, current.actor);
              if (input.type === 'routeObserved') wrote.intent = effect.intent;
              break;
            case 'readRoute':
              input = await this.#readRoute(r, effect.intent, current.actor);
              break;
            case 'measure':
              input = await this.#measure(r, effect.window, current.actor);
              break;
            case 'waitUntil':
            case 'finish':
              break;
          }
        }
        if (input === null && r.intent?.id !== wrote.intent?.id) wrote.intent = null;
        if (input === null && decision.kind === 'changed' && !isTerminal(r.status.phase) && !options.only) {
          input = { type: 'due', actor: current.actor };
        }
      }
    } finally {
      await Promise.allSettled(publishing);
    }
    return { rollout: r, transitions, reason, duplicate: false };
  }

  async #applyRoute(r: Rollout, intent: RouteIntent, actor: string): Promise<Input> {
    const target = targetOf(r);
    try {
      const router = await this.#deps.router();
      let expected: { updateTime: string } | undefined;
      if (!intent.overwrite) {
        // Never overwrite a person: apply only over the weights this rollout last confirmed, and
        // only if nobody has written the route since that read.
        const seen = await router.read(target);
        const observation = observe(seen, intent);
        if (observation.kind !== 'matchesPrevious')
          return { type: 'routeObserved', actor, intentId: intent.id, observation };
        expected = { updateTime: seen.updateTime };
      }
      const view = await router.apply(target, intent.weights, expected);
      return { type: 'routeObserved', actor, intentId: intent.id, observation: observe(view, intent) };
    } catch (error) {
      return this.#routeFailure(error, intent, actor);
    }
  }

  async #readRoute(r: Rollout, intent: RouteIntent, actor: string): Promise<Input> {
    try {
      const view = await (await this.#deps.router()).read(targetOf(r));
      return { type: 'routeObserved', actor, intentId: intent.id, observation: observe(view, intent) };
    } catch (error) {
      return this.#routeFailure(error, intent, actor);
    }
  }

  #routeFailure(error: unknown, intent: RouteIntent, actor: string): Input {
    if (error instanceof RouteError) {
      return {
        type: 'routeFailed',
        actor,
        intentId: intent.id,
        error: { kind: error.kind, message: error.message },
      };
    }
    if (error instanceof ControllerError && error.retryable) {
      return {
        type: 'routeFailed',
        actor,
        intentId: intent.id,
        error: { kind: 'transient', message: error.message },
      };
    }
    throw error;
  }

  async #measure(
    r: Rollout,
    window: { index: number; start: number; end: number },
    actor: string,
  ): Promise<Input> {
    const metrics = await this.#deps.metrics();
    const span: TimeWindow = { start: window.start, end: window.end };
    const analysis = r.plan.analysis;
    const latency = analysis.maxP99LatencyMs !== null || analysis.maxP99LatencyRatio !== null;
    const read = async (source: MetricSource) => {
      try {
        return await metrics.read(source, span, { latency });
      } catch (error) {
        // A transient failure is retried by the caller with the window still unjudged;
        // anything else is reported as missing data (inconclusive, never a pass).
        if (error instanceof ControllerError && !error.retryable) {
          return { kind: 'noData' as const, reason: `${error.message} (${error.hint})` };
        }
        throw error;
      }
    };
    const [stable, canary] = await Promise.all([
      read(r.plan.analysis.metrics.stable),
      read(r.plan.analysis.metrics.canary),
    ]);
    const judge = this.#deps.judgeFor(r.plan.analysis);
    const judgement = judge.judge(
      { window, weights: r.weights, stable, canary },
      r.analysis.judge,
      r.plan.analysis,
    );
    return { type: 'verdict', actor, window, judgement };
  }

  /**
   * This run wrote `written` to the route, but meanwhile another driver moved the rollout on
   * (a rollback, a promotion). If the route still shows what this run wrote and the rollout
   * holds confirmed weights that differ, put those back: a late write must not undo a rollback.
   */
  async #repairStaleWrite(r: Rollout, written: RouteIntent, log: Logger): Promise<void> {
    if (r.intent !== null) return; // the newer change is still in flight; its driver verifies the route
    const desired: Weights = r.weights;
    if (sameWeights(desired, written.weights)) return;
    const router = await this.#deps.router();
    const view = await router.read(targetOf(r));
    if (!sameWeights(view.weights, written.weights)) return;
    log.warn(
      `a late route write (${describeWeights(written.weights)}) landed after the rollout moved on; restoring ${describeWeights(desired)}`,
    );
    await router.apply(targetOf(r), desired);
  }
}
