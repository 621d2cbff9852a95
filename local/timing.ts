/**
 * How slow and lumpy the local cloud is. By default it keeps Google's timing, scaled by the
 * time scale and drawn from seeded generators so a run can be repeated:
 *
 *   Monitoring   Cloud Run writes one DELTA point per revision and response code per sampling
 *                period (60 s, on minute boundaries); each point becomes visible after an
 *                ingestion delay drawn per point, 30–180 s (Google: "up to 180 s" for Cloud Run
 *                request metrics; we draw uniformly and never less than half a minute, because
 *                Google publishes only the bound and a shorter draw would be the kinder reading).
 *   Operations   a route write's long-running operation takes 3–10 s (Google documents none;
 *                Network Services writes are reported in seconds to tens of seconds).
 *   Propagation  after the operation completes, each mesh client picks up the route 1–10 s
 *                later, each at its own moment, so old and new splits serve side by side for a
 *                while (Google publishes no bound; Cloud Deploy offers a wait of up to 3 h).
 *
 * `ideal` is the explicit switch for tests that need exact numbers: points every second of
 * scaled time and visible at once, operations of 20 ms, routes reaching the mesh at once.
 */
import { type RandomSource, seededRandom } from './mesh/weights.ts';

/** A fixed duration, or a range drawn from uniformly. */
export type DelaySpec = number | { readonly minMs: number; readonly maxMs: number };

export type TimingProfile = 'google' | 'ideal';

export interface CloudTiming {
  readonly profile: TimingProfile;
  /** Length of one Cloud Run metric point; null writes what was recorded at every flush. */
  readonly samplingPeriodMs: number | null;
  /** How often the recorder writes when `samplingPeriodMs` is null. */
  readonly flushMs: number;
  readonly ingestionDelay: DelaySpec;
  readonly operation: DelaySpec;
  readonly propagation: DelaySpec;
  /** Seeds every generator of the local cloud (one stream per part). */
  readonly seed: number;
}

export const DEFAULT_SEED = 20261201;

/** Google's timing in unscaled milliseconds (see the file comment for the sources). */
export const GOOGLE_TIMING = {
  samplingPeriodMs: 60_000,
  ingestionDelay: { minMs: 30_000, maxMs: 180_000 },
  operation: { minMs: 3_000, maxMs: 10_000 },
  propagation: { minMs: 1_000, maxMs: 10_000 },
} as const;

function scaleSpec(spec: DelaySpec, timeScale: number): DelaySpec {
  if (typeof spec === 'number') return spec / timeScale;
  return { minMs: spec.minMs / timeScale, maxMs: spec.maxMs / timeScale };
}

/** The timing of a profile at a time scale; `overrides` are taken as given (already scaled). */
export function cloudTiming(
  profile: TimingProfile,
  timeScale: number,
  overrides: Partial<Omit<CloudTiming, 'profile'>> = {},
): CloudTiming {
  if (!Number.isFinite(timeScale) || timeScale <= 0) {
    throw new RangeError(`time scale must be a positive number, got ${timeScale}`);
  }
  const base: CloudTiming =
    profile === 'google'
      ? {
          profile,
          samplingPeriodMs: Math.round(GOOGLE_TIMING.samplingPeriodMs / timeScale),
          flushMs: Math.max(100, Math.round(GOOGLE_TIMING.samplingPeriodMs / timeScale / 4)),
          ingestionDelay: scaleSpec(GOOGLE_TIMING.ingestionDelay, timeScale),
          operation: scaleSpec(GOOGLE_TIMING.operation, timeScale),
          propagation: scaleSpec(GOOGLE_TIMING.propagation, timeScale),
          seed: DEFAULT_SEED,
        }
      : {
          profile,
          samplingPeriodMs: null,
          flushMs: Math.max(100, Math.round(1_000 / timeScale)),
          ingestionDelay: 0,
          operation: 20,
          propagation: 0,
          seed: DEFAULT_SEED,
        };
  return { ...base, ...overrides };
}

/** Draws durations from a spec; a fixed spec always gives the same value. */
export function delaySource(spec: DelaySpec, random: RandomSource): () => number {
  if (typeof spec === 'number') {
    checkMs(spec);
    return () => spec;
  }
  checkMs(spec.minMs);
  checkMs(spec.maxMs);
  if (spec.maxMs < spec.minMs) {
    throw new RangeError(`delay range ${spec.minMs}–${spec.maxMs} ms ends before it starts`);
  }
  return () => spec.minMs + (spec.maxMs - spec.minMs) * random();
}

/** The seeded generator of one part of the local cloud (each part its own stream). */
export function streamFor(
  seed: number,
  part: 'ingestion' | 'operations' | 'propagation' | 'mesh',
): RandomSource {
  const offsets = { ingestion: 1, operations: 2, propagation: 3, mesh: 4 } as const;
  return seededRandom((seed * 31 + offsets[part]) >>> 0);
}

/** The largest duration a spec can give. */
export function maxOf(spec: DelaySpec): number {
  return typeof spec === 'number' ? spec : spec.maxMs;
}

function checkMs(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`a delay must be ≥ 0 ms, got ${ms}`);
}
