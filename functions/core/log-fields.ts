/**
 * The `rollout` object every log line of a committed change carries (docs/observability.md): the
 * fields Cloud Logging's log-based metrics extract (infra/observability.tf). Stable names, numbers
 * as numbers, only what is known: a field without a value is left out, never written as null or
 * guessed. No free text a person typed (notes, summaries, hook details): kinds from closed sets,
 * names the request validated, and numbers.
 */
import type { EvidenceValue, Verdict } from './analysis/verdict.ts';
import { lastSegment } from './resource-name.ts';
import type { EventType, HistoryEntry, Phase, Rollout, Status } from './state.ts';
import { routesOf } from './targets.ts';

/** Longest string a field carries (ids and route names are shorter once validated). */
const MAX_TEXT = 100;

export interface RolloutLogFields {
  readonly id: string;
  readonly event: EventType;
  readonly phase: Phase;
  readonly version: number;
  /** The plan step after the change (absent outside Progressing, Paused and Aborting). */
  readonly step?: number;
  /** Short name of the release's first route (its name in queues and events). */
  readonly route: string;
  /** Short names of every route of the release, in order (at most MAX_TARGETS). */
  readonly routes: readonly string[];
  /** The split confirmed live after the change, in percent. */
  readonly canaryWeight: number;
  readonly stableWeight: number;
  /** The judged window's verdict and evidence (analysis changes only). */
  readonly verdict?: Verdict;
  readonly window?: number;
  readonly eValue?: number;
  readonly eValueThreshold?: number;
  readonly canaryErrorRatio?: number;
  readonly stableErrorRatio?: number;
  readonly canaryRequests?: number;
  readonly stableRequests?: number;
  /** Why the canary is being (or was) taken out: RollingBack and RolledBack. */
  readonly rollbackCause?: string;
  /** Why the rollout is paused: Paused. */
  readonly pauseReason?: string;
  /** What a person must fix on the route: ActionRequired. */
  readonly routeProblem?: string;
  /**
   * Present only when the rollout waits for a person and says so in this change: the route
   * problem of `rollout.action_required`, or the reason of a `rollout.paused` no person asked for.
   */
  readonly needsPerson?: string;
}

const EVIDENCE_NUMBERS = [
  'eValue',
  'eValueThreshold',
  'canaryErrorRatio',
  'stableErrorRatio',
  'canaryRequests',
  'stableRequests',
] as const;

/** The fields of the change `entry` made, `rollout` being the rollout as that change stored it. */
export function rolloutLogFields(rollout: Rollout, entry: HistoryEntry): RolloutLogFields {
  const routes = routesOf(rollout.spec).map((r) => bounded(lastSegment(r)));
  const weights = entry.to.weights;
  return {
    id: bounded(rollout.id),
    event: entry.event,
    phase: entry.to.phase,
    version: entry.version,
    ...(entry.to.step === null ? {} : { step: entry.to.step }),
    route: routes[0] ?? '',
    routes,
    canaryWeight: weights.canary,
    stableWeight: weights.stable,
    ...verdictFields(entry),
    ...statusFields(rollout.status),
    ...personFields(entry, rollout.status),
  };
}

function verdictFields(entry: HistoryEntry): Partial<RolloutLogFields> {
  const judged = entry.verdict;
  if (judged === null) return {};
  const fields: Record<string, number> = {};
  for (const key of EVIDENCE_NUMBERS) {
    const value = finite(judged.evidence[key]);
    if (value !== null) fields[key] = value;
  }
  return { verdict: judged.verdict, window: judged.window.index, ...fields };
}

function statusFields(status: Status): Partial<RolloutLogFields> {
  switch (status.phase) {
    case 'RollingBack':
    case 'RolledBack':
      return { rollbackCause: status.cause.kind };
    case 'Paused':
      return { pauseReason: status.reason.kind };
    case 'ActionRequired':
      return { routeProblem: status.problem.kind };
    default:
      return {};
  }
}

function personFields(entry: HistoryEntry, status: Status): Partial<RolloutLogFields> {
  if (entry.event === 'rollout.action_required' && status.phase === 'ActionRequired') {
    return { needsPerson: status.problem.kind };
  }
  if (entry.event === 'rollout.paused' && status.phase === 'Paused' && status.reason.kind !== 'operator') {
    return { needsPerson: status.reason.kind };
  }
  return {};
}

/** A JSON number Cloud Logging can extract as a double (no NaN, no infinity, no text). */
function finite(value: EvidenceValue | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function bounded(text: string): string {
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
}
