/**
 * Plan normalisation: a request's steps and analysis settings become an explicit, ordered
 * list of steps with effective durations in milliseconds, stored on the rollout so every
 * later decision is a function of the stored document alone.
 */
import { parseDurationSeconds } from './duration.ts';
import type { PlanHooks } from './hooks.ts';
import { normaliseHooks } from './plan-hooks.ts';
import type { MetricSource, RolloutRequest } from './request.ts';
import { ALL_CANARY, canaryAt, type Weights } from './weights.ts';

/** How 5xx are assumed to arrive (see analysis/bursts.ts and analysis/sequential.ts). */
export type ErrorModel = 'clustered' | 'independent';

export type PlanStep =
  | { readonly kind: 'weight'; readonly weights: Weights; readonly holdMs: number }
  | { readonly kind: 'gate'; readonly note: string | null }
  | { readonly kind: 'promote'; readonly weights: Weights };

export interface AnalysisPlan {
  readonly intervalMs: number;
  /**
   * Length of one metric point of the sources (Cloud Run and load balancers: 60 s). Windows
   * start and end on multiples of it, so no point straddles two windows or a weight change.
   */
  readonly samplingPeriodMs: number;
  readonly settleMs: number;
  /** The longest a metric point may take to become visible: a window is judged by then at the latest. */
  readonly ingestionDelayMs: number;
  /**
   * How soon after a window ends, and how often until its deadline, the driver looks whether all
   * its points are visible (the ingestion frontier). Absent on rollouts stored before it existed.
   */
  readonly pollMs?: number;
  readonly maxErrorRatio: number;
  readonly maxP99LatencyMs: number | null;
  readonly maxP99LatencyRatio: number | null;
  readonly failureLimit: number;
  readonly minRequests: number;
  readonly inconclusiveLimit: number;
  /** Longest a weight step waits for enough traffic to judge before it pauses; null: no limit. */
  readonly maxStepMs: number | null;
  readonly sequential: {
    readonly enabled: boolean;
    readonly alpha: number;
    /** Which comparison: per-period bets valid under error bursts, or the per-error mixture. */
    readonly errors: ErrorModel;
    /** Whether latency is compared too (the request asks and both metric sources report latency). */
    readonly latency: boolean;
  };
  readonly metrics: { readonly stable: MetricSource; readonly canary: MetricSource };
}

/** Controller-wide timing for route changes, fixed on the rollout when it is created. */
export interface RouteTiming {
  /** How long a driver owns an in-flight route change before another may take it over. */
  readonly leaseMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Failed attempts at a forward route change before the rollout rolls back instead. */
  readonly maxRouteAttempts: number;
}

export interface Plan {
  readonly steps: readonly PlanStep[];
  readonly analysis: AnalysisPlan;
  readonly timing: RouteTiming;
  /** Durations written in the request are divided by this (local runs only; 1 in production). */
  readonly timeScale: number;
  /** The request's hooks (absent: none, or a rollout stored before hooks existed). */
  readonly hooks?: PlanHooks;
  /** The rollout's deadline, from its creation (absent on rollouts stored before deadlines existed). */
  readonly deadline?: DeadlinePlan | null;
  /** The longest a pause may wait for a person, from when it began. */
  readonly gateTimeout?: DeadlinePlan | null;
  /** How long work may stay overdue before rollout.stalled (once per this interval). */
  readonly stalledAfterMs?: number;
}

/** What a passed progress deadline does. */
export type DeadlineAction = 'rollback' | 'abort' | 'notify';

export interface DeadlinePlan {
  readonly afterMs: number;
  readonly action: DeadlineAction;
}

export interface PlanContext {
  readonly metrics: { readonly stable: MetricSource; readonly canary: MetricSource };
  readonly timing: RouteTiming;
  readonly timeScale: number;
  /** The controller's default for a request without stalledAfter (not scaled: a controller setting). */
  readonly stalledAfterMs: number;
}

/** Every source Monitoring serves is sampled at most once a minute (the smallest alignment period). */
export const SAMPLING_PERIOD_SECONDS = 60;

/** How often the driver looks for a window's points before its deadline (Cloud Run's earliest are ~30 s late). */
export const POLL_SECONDS = 15;

/** Default ingestion delay by metric source, from how late each one is documented to arrive. */
export function defaultIngestionDelaySeconds(source: MetricSource): number {
  switch (source.preset) {
    case 'cloudRun':
      return 180;
    case 'internalLb':
      return 90;
    case 'filter':
      return 120;
  }
}

/** Whether a metric source reports a latency distribution (presets do; a filter source when it names one). */
export function hasLatency(source: MetricSource): boolean {
  return source.preset !== 'filter' || source.latency !== undefined;
}

export function normalisePlan(request: RolloutRequest, context: PlanContext): Plan {
  const scaled = (text: string): number =>
    Math.round(((parseDurationSeconds(text) ?? 0) * 1000) / context.timeScale);
  const steps: PlanStep[] = request.steps.map((step) =>
    'weight' in step
      ? { kind: 'weight', weights: canaryAt(step.weight), holdMs: scaled(step.hold) }
      : { kind: 'gate', note: step.note ?? null },
  );
  if (request.onSuccess === 'promote') steps.push({ kind: 'promote', weights: ALL_CANARY });
  const hooks = normaliseHooks(request, context.timeScale);
  const a = request.analysis;
  const delaySeconds =
    a.ingestionDelay !== undefined
      ? (parseDurationSeconds(a.ingestionDelay) ?? 0)
      : Math.max(
          defaultIngestionDelaySeconds(context.metrics.stable),
          defaultIngestionDelaySeconds(context.metrics.canary),
        );
  return {
    steps,
    analysis: {
      intervalMs: scaled(a.interval),
      samplingPeriodMs: Math.round((SAMPLING_PERIOD_SECONDS * 1000) / context.timeScale),
      settleMs: scaled(a.settle),
      ingestionDelayMs: Math.round((delaySeconds * 1000) / context.timeScale),
      pollMs: Math.round((POLL_SECONDS * 1000) / context.timeScale),
      maxErrorRatio: a.maxErrorRatio,
      maxP99LatencyMs: a.maxP99LatencyMs ?? null,
      maxP99LatencyRatio: a.maxP99LatencyRatio ?? null,
      failureLimit: a.failureLimit,
      minRequests: a.minRequests,
      inconclusiveLimit: a.inconclusiveLimit,
      maxStepMs: a.maxStepDuration === undefined ? null : scaled(a.maxStepDuration),
      sequential: {
        enabled: a.sequential.enabled,
        alpha: a.sequential.alpha,
        errors: a.sequential.errors,
        latency:
          a.sequential.latency && hasLatency(context.metrics.stable) && hasLatency(context.metrics.canary),
      },
      metrics: context.metrics,
    },
    timing: context.timing,
    timeScale: context.timeScale,
    ...(hooks === undefined ? {} : { hooks }),
    ...progressDeadlines(request, context, scaled),
  };
}

/** The request's deadlines in (scaled) milliseconds; stalledAfter defaults to the controller's. */
function progressDeadlines(
  request: RolloutRequest,
  context: PlanContext,
  scaled: (text: string) => number,
): Pick<Plan, 'deadline' | 'gateTimeout' | 'stalledAfterMs'> {
  const { deadline, gateTimeout, stalledAfter } = request;
  return {
    deadline: deadline ? { afterMs: scaled(deadline.after), action: deadline.action } : null,
    gateTimeout: gateTimeout ? { afterMs: scaled(gateTimeout.after), action: gateTimeout.action } : null,
    stalledAfterMs: stalledAfter === undefined ? context.stalledAfterMs : scaled(stalledAfter),
  };
}

/** Number of weight and gate steps a person wrote (the final promotion is not counted). */
export function authoredStepCount(plan: Plan): number {
  return plan.steps.filter((s) => s.kind !== 'promote').length;
}
