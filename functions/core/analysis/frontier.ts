/**
 * The ingestion frontier: judge a window the moment Monitoring has all of it, not after the
 * worst-case delay.
 *
 * Cloud Run writes one request point per backend per sampling period, visible after a lag of
 * 30 s to a few minutes, never changed once visible. A window counts once, for every sampling
 * period in it, both backends' points are visible; once its deadline (end + ingestionDelay) has
 * passed it counts with what is there (a point still missing counts as nothing: by then it is as
 * late as the documented bound, or there was no traffic). Until then the driver looks again every
 * `pollMs`. Windows are judged in order and each once (the rollout's window counters), so no
 * point is counted twice and none is skipped.
 */
import type { AnalysisWindow, BackendReading } from './verdict.ts';

export type FrontierCheck =
  | { readonly kind: 'complete' }
  | {
      readonly kind: 'pending';
      /** Sampling periods (their end, epoch ms) each backend has no point for yet. */
      readonly stable: readonly number[];
      readonly canary: readonly number[];
    };

/** End times of the sampling periods of a window (its end is a sampling boundary). */
export function periodEnds(
  window: Pick<AnalysisWindow, 'start' | 'end'>,
  samplingPeriodMs: number,
): number[] {
  const ends: number[] = [];
  for (let end = window.start + samplingPeriodMs; end <= window.end; end += samplingPeriodMs) ends.push(end);
  return ends;
}

function missing(reading: BackendReading, ends: readonly number[]): number[] {
  if (reading.kind === 'noData') return [...ends];
  if (reading.periods === undefined) return [];
  const seen = new Set(reading.periods);
  return ends.filter((e) => !seen.has(e));
}

/** Whether both backends have a point for every sampling period of the window. */
export function frontierCheck(
  window: Pick<AnalysisWindow, 'start' | 'end'>,
  samplingPeriodMs: number,
  stable: BackendReading,
  canary: BackendReading,
): FrontierCheck {
  const ends = periodEnds(window, samplingPeriodMs);
  const s = missing(stable, ends);
  const c = missing(canary, ends);
  return s.length === 0 && c.length === 0 ? { kind: 'complete' } : { kind: 'pending', stable: s, canary: c };
}

export function describePending(check: Extract<FrontierCheck, { kind: 'pending' }>): string {
  const at = (ends: readonly number[]) => ends.map((e) => new Date(e).toISOString().slice(11, 19)).join(', ');
  const parts = [
    check.canary.length > 0 ? `canary point(s) ending ${at(check.canary)}` : null,
    check.stable.length > 0 ? `stable point(s) ending ${at(check.stable)}` : null,
  ].filter((p): p is string => p !== null);
  return `${parts.join(' and ')} not visible yet`;
}
