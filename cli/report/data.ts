/**
 * The report's data model: what `rolloutctl report` draws, read from a rollout and its history
 * (functions/app/status.ts). Pure: the same status always gives the same model. `--json` prints it.
 */
import type { EvidenceValue } from '../../functions/core/analysis/verdict.ts';
import type { HistoryEntry, Rollout } from '../../functions/core/state.ts';
import { routesOf } from '../../functions/core/targets.ts';

/** The canary's (and stable's) share from `at` until the next point. */
export interface WeightPoint {
  readonly at: number;
  readonly canary: number;
  readonly stable: number;
}

/** One judged analysis window: a history entry that carries a verdict. */
export interface WindowPoint {
  /** The history entry's version (the entry that recorded the verdict). */
  readonly version: number;
  /** When the verdict was recorded (the time axis of every chart). */
  readonly at: number;
  /** The window's index within its step (1-based), start and end as measured. */
  readonly index: number;
  readonly start: number;
  readonly end: number;
  readonly verdict: string;
  readonly summary: string;
  readonly canaryErrorRatio: number | null;
  readonly stableErrorRatio: number | null;
  readonly canaryP99Ms: number | null;
  readonly stableP99Ms: number | null;
  /** The comparison's e-value and its threshold 1/α (absent with judges that have none). */
  readonly eValue: number | null;
  readonly eValueThreshold: number | null;
}

/** One history entry: every change, with who caused it and why. */
export interface EventPoint {
  readonly version: number;
  readonly at: number;
  readonly event: string;
  readonly actor: string;
  readonly reason: string;
  /** The phase the change left the rollout in. */
  readonly phase: string;
}

export interface ReportData {
  readonly id: string;
  readonly routes: readonly string[];
  readonly stable: string;
  readonly canary: string;
  /** The rollout's phase now (its outcome once terminal) and the reason it took that turn. */
  readonly outcome: { readonly phase: string; readonly reason: string };
  /** First and last history entry; null without history. */
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly durationMs: number | null;
  readonly weights: readonly WeightPoint[];
  readonly windows: readonly WindowPoint[];
  readonly events: readonly EventPoint[];
}

export interface ReportSource {
  readonly rollout: Rollout;
  readonly history: readonly HistoryEntry[];
}

const TURNS = new Set([
  'RollingBack',
  'Aborting',
  'Succeeded',
  'RolledBack',
  'Aborted',
  'Failed',
  'ActionRequired',
]);

export function reportData(source: ReportSource): ReportData {
  const { rollout: r } = source;
  const history = [...source.history].sort((a, b) => a.version - b.version);
  const startedAt = history[0]?.at ?? null;
  const endedAt = history.at(-1)?.at ?? null;
  return {
    id: r.id,
    routes: routesOf(r.spec),
    stable: r.spec.stable,
    canary: r.spec.canary,
    outcome: { phase: r.status.phase, reason: outcomeReason(history) },
    startedAt,
    endedAt,
    durationMs: startedAt === null || endedAt === null ? null : endedAt - startedAt,
    weights: weightSteps(history),
    windows: history.flatMap((h) => windowOf(h) ?? []),
    events: history.map((h) => ({
      version: h.version,
      at: h.at,
      event: h.event,
      actor: h.actor,
      reason: h.reason,
      phase: h.to.phase,
    })),
  };
}

/** Why the rollout took its turn: the first change into rolling back, aborting or an end; else the last change. */
function outcomeReason(history: readonly HistoryEntry[]): string {
  const turn = history.find((h) => h.from.phase !== h.to.phase && TURNS.has(h.to.phase));
  return (turn ?? history.at(-1))?.reason ?? '';
}

/** The confirmed weights as a step function: a point wherever `to.weights` changed. */
export function weightSteps(history: readonly HistoryEntry[]): WeightPoint[] {
  const points: WeightPoint[] = [];
  for (const h of history) {
    const last = points.at(-1);
    if (last && last.canary === h.to.weights.canary && last.stable === h.to.weights.stable) continue;
    points.push({ at: h.at, canary: h.to.weights.canary, stable: h.to.weights.stable });
  }
  return points;
}

export function windowOf(h: HistoryEntry): WindowPoint | null {
  const v = h.verdict;
  if (v === null) return null;
  const e = v.evidence;
  return {
    version: h.version,
    at: h.at,
    index: v.window.index,
    start: v.window.start,
    end: v.window.end,
    verdict: v.verdict,
    summary: v.summary,
    canaryErrorRatio: errorRatio(e, 'canary'),
    stableErrorRatio: errorRatio(e, 'stable'),
    canaryP99Ms: numberAt(e, 'canaryP99Ms'),
    stableP99Ms: numberAt(e, 'stableP99Ms'),
    eValue: numberAt(e, 'eValue'),
    eValueThreshold: numberAt(e, 'eValueThreshold'),
  };
}

type Evidence = { readonly [key: string]: EvidenceValue };

function numberAt(e: Evidence, key: string): number | null {
  const value = e[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The evidence's ratio, else errors / requests, else null (no requests, or not recorded). */
export function errorRatio(e: Evidence, backend: 'canary' | 'stable'): number | null {
  const stated = numberAt(e, `${backend}ErrorRatio`);
  if (stated !== null) return stated;
  const errors = numberAt(e, `${backend}Errors`);
  const requests = numberAt(e, `${backend}Requests`);
  return errors !== null && requests !== null && requests > 0 ? errors / requests : null;
}
