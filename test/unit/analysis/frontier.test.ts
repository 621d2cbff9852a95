/**
 * The ingestion frontier: a window counts once both backends have a point for each of its
 * sampling periods; what is missing is named.
 */
import { describe, expect, it } from 'vitest';
import { describePending, frontierCheck, periodEnds } from '../../../functions/core/analysis/frontier.ts';
import type { BackendReading } from '../../../functions/core/analysis/verdict.ts';

const M = 60_000;
const T = Date.UTC(2026, 11, 1, 12, 0, 0);
const data = (periods?: number[]): BackendReading => ({
  kind: 'data',
  requests: 100,
  errors: 1,
  latency: null,
  ...(periods === undefined ? {} : { periods }),
});

describe('frontierCheck', () => {
  const window = { start: T, end: T + 2 * M };

  it('names the sampling periods of a window by their end', () => {
    expect(periodEnds(window, M)).toEqual([T + M, T + 2 * M]);
  });

  it('complete once both backends have every period', () => {
    expect(frontierCheck(window, M, data([T + M, T + 2 * M]), data([T + 2 * M, T + M]))).toEqual({
      kind: 'complete',
    });
  });

  it('a late point on one backend: pending, naming it', () => {
    const check = frontierCheck(window, M, data([T + M, T + 2 * M]), data([T + M]));
    expect(check).toEqual({ kind: 'pending', stable: [], canary: [T + 2 * M] });
    expect(check.kind === 'pending' && describePending(check)).toBe(
      'canary point(s) ending 12:02:00 not visible yet',
    );
  });

  it('no series yet on a backend: every period of it is missing', () => {
    const none: BackendReading = { kind: 'noData', reason: 'no time series' };
    expect(frontierCheck(window, M, none, data([T + M, T + 2 * M]))).toEqual({
      kind: 'pending',
      stable: [T + M, T + 2 * M],
      canary: [],
    });
  });

  it('a point counted once even when a page repeats it; points outside the window do not count', () => {
    const repeated = data([T + M, T + M, T + 3 * M]);
    expect(frontierCheck(window, M, repeated, repeated)).toEqual({
      kind: 'pending',
      stable: [T + 2 * M],
      canary: [T + 2 * M],
    });
  });

  it('a reading without period information (read after the deadline) is complete as it is', () => {
    expect(frontierCheck(window, M, data(), data())).toEqual({ kind: 'complete' });
  });
});
