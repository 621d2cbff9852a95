/**
 * Executes a rollout's decisions: feeds an input to the core, stores the decision (one version,
 * one history entry, one lifecycle event), carries out its one follow-up — a route write or
 * read, a measurement — and feeds the outcome back, until nothing more is due. It decides
 * nothing itself. Every driver (workflow, tick, alert, operator) goes through here.
 */
import { describePending, frontierCheck } from '../core/analysis/frontier.ts';
import { checkSplit } from '../core/analysis/split.ts';
import type { Judge } from '../core/analysis/verdict.ts';
import type { Decision, FollowUp, Notify } from '../core/decision.ts';
import { hookBody } from '../core/hook-body.ts';
import type { HookPoint, HookResult, PlanHook } from '../core/hooks.ts';
import type { Input } from '../core/inputs.ts';
import { rolloutLogFields } from '../core/log-fields.ts';
import type { AnalysisPlan } from '../core/plan.ts';
import type { MetricSource } from '../core/request.ts';
import type { RouteSnapshot } from '../core/routing/snapshot.ts';
import { lookAfterMs, windowDeadline } from '../core/schedule.ts';
import {
  type HistoryEntry,
  isTerminal,
  type OperationState,
  type Rollout,
  type RouteIntent,
  type RouteOperation,
} from '../core/state.ts';
import { transition } from '../core/transition.ts';
import type { Weights } from '../core/weights.ts';
import { ControllerError, RefusedError } from '../errors.ts';
import type { HookCaller } from '../ports/hook-caller.ts';
import type { MetricsReader } from '../ports/metrics-reader.ts';
import { DuplicateMessageError, type RolloutStore, VersionConflictError } from '../ports/rollout-store.ts';
import {
  type OperationObserver,
  RouteError,
  type RouteWrite,
  type TrafficRouter,
} from '../ports/traffic-router.ts';
import type { Lazy, LifecycleEvents } from './lifecycle-events.ts';
import type { Logger } from './log.ts';

export interface ExecutorDeps {
  readonly store: RolloutStore;
  readonly router: Lazy<TrafficRouter>;
  readonly metrics: Lazy<MetricsReader>;
  /** Calls the rollout's hooks (wiring: the HTTPS adapter with OIDC tokens). */
  readonly hooks?: Lazy<HookCaller>;
  readonly judgeFor: (plan: AnalysisPlan) => Judge;
  readonly events: LifecycleEvents;
  readonly clock: () => number;
  readonly log: Logger;
  /**
   * Starts the driver of a rollout the route lock was just handed to (a queued rollout whose turn
   * came when this run ended the route's active rollout). Wiring: start-rollout's startDriver.
   * Without it (or if it fails) the tick picks the rollout up: it is due at once.
   */
  readonly startNext?: (next: Rollout, actor: string) => Promise<void>;
}

export interface RunOptions {
  /** Recorded with the first change so a redelivered message is recognised. */
  readonly dedupeKey?: string;
  /** Stop after deciding on this input and its follow-up instead of going on with whatever is due. */
  readonly only?: boolean;
  /** The rollout as the caller just read it (saves reading it again). */
  readonly loaded?: Rollout;
}

export interface RunResult {
  readonly rollout: Rollout;
  readonly transitions: number;
  /** Why the last decision changed nothing (e.g. "hold ends …"); null if the run ended on a change. */
  readonly reason: string | null;
  readonly duplicate: boolean;
  /** The first change this run made (the one its input caused), if any. */
  readonly first: HistoryEntry | null;
  /** When to look again although nothing is stored as due (a window whose points are not all visible yet). */
  readonly retryAt: number | null;
}

type Stored = 'stored' | 'conflict' | 'duplicate';

/** What a route read or write reports back (a read: nothing written, nothing concurrent to tell). */
type RouteOutcome = Pick<RouteWrite, 'written' | 'route'> &
  Partial<Pick<RouteWrite, 'before' | 'concurrent'>>;

const MAX_DECISIONS = 25;
const MAX_CONFLICTS = 5;

export class RolloutExecutor {
  readonly #deps: ExecutorDeps;

  constructor(deps: ExecutorDeps) {
    this.#deps = deps;
  }

  /** Returns null when there is no rollout with this id. */
  async run(id: string, first: Input, options: RunOptions = {}): Promise<RunResult | null> {
    let r = options.loaded ?? (await this.#deps.store.get(id));
    if (r === null) return null;
    const log = this.#deps.log.child({ rolloutId: id });
    const publishing: Promise<void>[] = [];
    const notices: Promise<Input | null>[] = [];
    let input: Input | null = first;
    let dedupeKey = options.dedupeKey;
    let transitions = 0;
    let conflicts = 0;
    let reason: string | null = null;
    let caused: HistoryEntry | null = null;
    let retryAt: number | null = null;
    try {
      for (let i = 0; input !== null && i < MAX_DECISIONS; i += 1) {
        const decision = transition(r, input, this.#deps.clock());
        retryAt = decision.kind === 'unchanged' ? (decision.retryAt ?? null) : null;
        if (decision.kind === 'unchanged') {
          reason = decision.reason;
          log.debug(`no change: ${decision.reason}`, { input: input.type, phase: r.status.phase });
        } else {
          const stored = await this.#store(decision, dedupeKey, input, log);
          if (stored === 'duplicate') {
            const duplicate = { reason: 'duplicate message', duplicate: true, first: caused, retryAt: null };
            return { rollout: r, transitions, ...duplicate };
          }
          if (stored === 'conflict') {
            conflicts += 1;
            r = await this.#reload(id, decision.rollout.version, conflicts);
            continue;
          }
          dedupeKey = undefined;
          r = decision.rollout;
          caused ??= decision.entry;
          transitions += 1;
          reason = null;
          publishing.push(this.#deps.events.publish(r, decision.entry));
        }
        // Notifications start alongside the follow-up, after it: a rollback's write never waits for them.
        const following = this.#follow(r, decision.followUp, input.actor);
        if (decision.kind === 'changed' && decision.notify)
          notices.push(this.#notify(r, decision.notify, input.actor, log));
        input = (await following) ?? nextInput(decision, input, options);
      }
    } finally {
      await Promise.allSettled(publishing);
      r = (await this.#recordNotices(id, notices, log)) ?? r;
    }
    return { rollout: r, transitions, reason, duplicate: false, first: caused, retryAt };
  }

  async #store(
    decision: Extract<Decision, { kind: 'changed' }>,
    dedupeKey: string | undefined,
    input: Input,
    log: Logger,
  ): Promise<Stored> {
    try {
      const outcome = await this.#deps.store.commit(
        decision.rollout,
        decision.entry,
        dedupeKey === undefined ? {} : { dedupeKey },
      );
      // A release frees every route it held: each may hand over to a different waiting rollout.
      for (const next of [outcome.handedOff, ...(outcome.alsoHandedOff ?? [])]) {
        if (next !== null) await this.#handedOff(next, input.actor);
      }
    } catch (error) {
      if (error instanceof DuplicateMessageError) {
        log.info('message already processed; nothing to do', { dedupeKey });
        return 'duplicate';
      }
      if (error instanceof VersionConflictError) {
        log.debug('another driver moved the rollout first; deciding again', { input: input.type });
        return 'conflict';
      }
      throw error;
    }
    const { entry, rollout } = decision;
    // A person must act, or an operator's command came too late: said once, as a warning.
    const warn = entry.event === 'rollout.action_required' || entry.event === 'rollout.command_overtaken';
    const write = warn ? log.warn : log.info;
    write(entry.reason, {
      event: entry.event,
      phase: rollout.status.phase,
      step: entry.to.step,
      version: rollout.version,
      actor: input.actor,
      weights: rollout.weights,
      rollout: rolloutLogFields(rollout, entry),
    });
    return 'stored';
  }

  /** The route's next rollout took it over in this commit: say so, and start its driver. */
  async #handedOff(next: { rollout: Rollout; entry: HistoryEntry }, actor: string): Promise<void> {
    const { rollout, entry } = next;
    const log = this.#deps.log.child({ rolloutId: rollout.id });
    log.notice(entry.reason, {
      event: entry.event,
      phase: rollout.status.phase,
      version: rollout.version,
      rollout: rolloutLogFields(rollout, entry),
    });
    await this.#deps.events.publish(rollout, entry);
    try {
      await this.#deps.startNext?.(rollout, actor);
    } catch (error) {
      // Its first step is due now: the tick (the safety net) picks it up.
      log.warn('could not start the driver of the next rollout; the tick picks it up', { error });
    }
  }

  /** The rollout as another driver left it, to decide the same input again (a bounded number of times). */
  async #reload(id: string, attempted: number, conflicts: number): Promise<Rollout> {
    const fresh = conflicts <= MAX_CONFLICTS ? await this.#deps.store.get(id) : null;
    if (fresh === null) throw new VersionConflictError(id, attempted);
    return fresh;
  }

  /** Carries out a follow-up and returns its outcome as the next input (null for none). */
  async #follow(r: Rollout, followUp: FollowUp, actor: string): Promise<Input | null> {
    switch (followUp.kind) {
      case 'none':
        return null;
      case 'measure':
        return this.#measure(r, followUp.window, actor);
      case 'inspectRoute': {
        const router = await this.#deps.router();
        const route = await router.read(followUp.route);
        return { type: 'routeInspected', actor, route, target: followUp.target };
      }
      case 'checkRoutes':
        return this.#check(followUp, actor);
      case 'readRoute':
        return this.#route(r, followUp, actor, async (router) => ({
          written: false,
          route: await router.read(followUp.route),
        }));
      case 'applyRoute':
      case 'restoreRoute':
        return this.#route(r, followUp, actor, (router) => this.#write(router, r, followUp));
      case 'settleOperations':
        return this.#settle(r, followUp, actor);
      case 'callHooks': {
        const { point, step, hooks, nextWeights } = followUp;
        const results = await this.#callHooks(r, point, hooks, step, nextWeights);
        return { type: 'hooksCalled', actor, point, step, results };
      }
    }
  }

  /** Calls the hooks at once, each with its own retries (the caller never throws for what a hook did). */
  async #callHooks(
    r: Rollout,
    point: HookPoint,
    hooks: readonly PlanHook[],
    step: number | null,
    nextWeights: Weights | null,
  ): Promise<HookResult[]> {
    if (this.#deps.hooks === undefined) {
      throw new RefusedError(`rollout ${r.id} has ${point} hooks, but this controller has no hook caller`, {
        code: 'NO_HOOK_CALLER',
        hint: 'wire a HookCaller into the executor (functions/wiring.ts), or publish the request without hooks',
      });
    }
    const caller = await this.#deps.hooks();
    return Promise.all(hooks.map((hook) => caller.call(hook, hookBody(r, point, hook, step, nextWeights))));
  }

  /** A notification's calls; their results come back as an input (null: they could not be made). */
  async #notify(r: Rollout, notify: Notify, actor: string, log: Logger): Promise<Input | null> {
    try {
      const results = await this.#callHooks(r, notify.point, notify.hooks, null, null);
      return { type: 'hooksCalled', actor, point: notify.point, step: null, results };
    } catch (error) {
      log.warn(`${notify.point} hooks could not be called: ${(error as Error).message}`, {
        point: notify.point,
      });
      return null;
    }
  }

  /** Records what each notification came to, in the order they started; the rollout as last stored. */
  async #recordNotices(
    id: string,
    notices: readonly Promise<Input | null>[],
    log: Logger,
  ): Promise<Rollout | null> {
    let latest: Rollout | null = null;
    for (const notice of notices) {
      const input = await notice;
      if (input === null) continue;
      try {
        latest = (await this.run(id, input, { only: true }))?.rollout ?? latest;
      } catch (error) {
        log.warn(`could not record what the notification hooks came to: ${(error as Error).message}`);
      }
    }
    return latest;
  }

  /**
   * The follow-up's write and, for a rollback of several routes, the later targets' writes at the
   * same time (decision.ts `alongside`): their outcomes are not reported, each target's turn reads
   * it again; a failure among them is only logged (that turn writes again).
   */
  async #write(
    router: TrafficRouter,
    r: Rollout,
    f: Extract<FollowUp, { kind: 'applyRoute' | 'restoreRoute' }>,
  ): Promise<RouteWrite> {
    const write = router.apply(f.route, f.request, this.#observer(r, f));
    const others = (f.kind === 'applyRoute' ? (f.alongside ?? []) : []).map((w) =>
      router.apply(w.route, w.request, this.#observer(r, { ...f, ...w })).catch((error: unknown) => {
        this.#deps.log.child({ rolloutId: r.id }).warn(`rollback write of ${w.route} alongside failed`, {
          error,
          route: w.route,
        });
      }),
    );
    await Promise.allSettled([write, ...others]);
    return write;
  }

  /** Every operation a write starts is recorded before it is waited on, and settled when it ends. */
  #observer(r: Rollout, f: Extract<FollowUp, { kind: 'applyRoute' | 'restoreRoute' }>): OperationObserver {
    const { store, clock } = this.#deps;
    return {
      started: (name) =>
        store.recordOperation({
          name,
          rolloutId: r.id,
          route: f.route,
          intentId: f.intent.id,
          weights: f.request.weights,
          startedAt: clock(),
        }),
      finished: (name, state) => store.settleOperation(name, state, clock()),
    };
  }

  /** Reads the later targets of a release before a change's first write (a failed read: that target's route error). */
  async #check(f: Extract<FollowUp, { kind: 'checkRoutes' }>, actor: string): Promise<Input> {
    const router = await this.#deps.router();
    const routes: { target: number; route: RouteSnapshot }[] = [];
    for (const { route, target } of f.targets) {
      try {
        routes.push({ target, route: await router.read(route) });
      } catch (error) {
        return { type: 'routeFailed', actor, target, intentId: f.intent.id, error: routeFailure(error) };
      }
    }
    return { type: 'routesChecked', actor, intent: f.intent, routes };
  }

  /** Reads or writes the follow-up's target route; the outcome names that target. */
  async #route(
    r: Rollout,
    f: { readonly intent: RouteIntent; readonly target: number },
    actor: string,
    call: (router: TrafficRouter) => Promise<RouteOutcome>,
  ): Promise<Input> {
    const { intent, target } = f;
    let outcome: RouteOutcome;
    try {
      outcome = await call(await this.#deps.router());
    } catch (error) {
      return { type: 'routeFailed', actor, target, intentId: intent.id, error: routeFailure(error) };
    }
    const pending = await this.#deps.store.pendingOperations(r.id);
    return { type: 'routeObserved', actor, ...outcome, target, intent, pending };
  }

  /** Cancels or waits for each operation, records what became of it, then reads the route. */
  async #settle(
    r: Rollout,
    f: Extract<FollowUp, { kind: 'settleOperations' }>,
    actor: string,
  ): Promise<Input> {
    const { store, clock } = this.#deps;
    try {
      const router = await this.#deps.router();
      const outcomes: { operation: RouteOperation; state: OperationState }[] = [];
      for (const operation of f.operations) {
        const state = await router.settle(operation.name);
        if (state !== 'pending') await store.settleOperation(operation.name, state, clock());
        outcomes.push({ operation, state });
      }
      const route = await router.read(f.route);
      const pending = await store.pendingOperations(r.id);
      const target = f.target;
      return { type: 'operationsSettled', actor, target, intent: f.intent, outcomes, route, pending };
    } catch (error) {
      if (f.intent === null) throw error;
      const failure = routeFailure(error);
      return { type: 'routeFailed', actor, target: f.target, intentId: f.intent.id, error: failure };
    }
  }

  async #measure(
    r: Rollout,
    window: { index: number; start: number; end: number },
    actor: string,
  ): Promise<Input> {
    const metrics = await this.#deps.metrics();
    const analysis = r.plan.analysis;
    const latency =
      analysis.maxP99LatencyMs !== null ||
      analysis.maxP99LatencyRatio !== null ||
      (analysis.sequential.enabled && analysis.sequential.latency);
    // Read before its deadline, a window counts only once all its points are visible.
    const frontier = this.#deps.clock() < windowDeadline(r, window);
    const options = frontier ? { latency, periodMs: analysis.samplingPeriodMs } : { latency };
    const read = async (source: MetricSource) => {
      try {
        return await metrics.read(source, { start: window.start, end: window.end }, options);
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
      read(analysis.metrics.stable),
      read(analysis.metrics.canary),
    ]);
    const now = this.#deps.clock();
    if (frontier) {
      const check = frontierCheck(window, analysis.samplingPeriodMs, stable, canary);
      if (check.kind === 'pending') {
        const retryAt = Math.min(now + lookAfterMs(r), windowDeadline(r, window));
        return { type: 'windowPending', actor, window, detail: describePending(check), retryAt };
      }
    }
    const measurement = { window, weights: r.weights, stable, canary };
    if (!r.analysis.splitSeen) {
      const split = checkSplit(measurement);
      if (split.kind === 'notSeen') return { type: 'windowSettling', actor, window, split };
    }
    const judgement = this.#deps.judgeFor(analysis).judge(measurement, r.analysis.judge, analysis);
    return { type: 'verdict', actor, window, judgement };
  }
}

/** A failed route call as the core sees it; anything that is not a known route failure propagates. */
function routeFailure(error: unknown): Extract<Input, { type: 'routeFailed' }>['error'] {
  if (error instanceof RouteError) return { kind: error.kind, message: error.message };
  if (error instanceof ControllerError && error.retryable)
    return { kind: 'transient', message: error.message };
  throw error;
}

/** After a change with nothing to follow up, look at what is due next — unless told to stop. */
function nextInput(decision: Decision, input: Input, options: RunOptions): Input | null {
  if (decision.kind !== 'changed' || options.only || isTerminal(decision.rollout.status.phase)) return null;
  return { type: 'due', actor: input.actor };
}
