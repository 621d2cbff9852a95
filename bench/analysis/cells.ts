/** The benchmark grid, the analysis settings the judge runs with, and cell labels. */
import { type AnalysisPlan, type ErrorModel, normalisePlan } from '../../functions/core/plan.ts';
import { validateRolloutRequest } from '../../functions/core/request.ts';
import { constantWeights, type Scenario, stagedWeights } from './traces.ts';

export const INTERVAL_SECONDS = 60;
export const HORIZON_INTERVALS = 20;
export const RPS = [2, 20, 200, 2000] as const;
export const BASELINES = [0.001, 0.01] as const;
export const MULTIPLIERS = [1, 1.5, 2, 5, 20] as const;
/** Mean error-burst sizes beyond independent errors (1), run for healthy canaries and ×20. */
export const BURST_MEANS = [3, 10] as const;
const BURST_MULTIPLIERS = [1, 20] as const;

export interface Schedule {
  readonly name: string;
  readonly weights: readonly number[];
}

export const SCHEDULES: readonly Schedule[] = [
  { name: 'const 10%', weights: constantWeights(0.1, HORIZON_INTERVALS) },
  { name: 'staged 5-10-25-50%', weights: stagedWeights([0.05, 0.1, 0.25, 0.5], HORIZON_INTERVALS / 4) },
];

export interface Cell {
  /** Also the cell's random stream: cells never share draws, both rules share each cell's traces. */
  readonly index: number;
  readonly schedule: string;
  readonly scenario: Scenario;
}

export function cells(): Cell[] {
  const out: Cell[] = [];
  for (const schedule of SCHEDULES) {
    for (const rps of RPS) {
      for (const baseline of BASELINES) {
        const kinds = [
          ...MULTIPLIERS.map((multiplier) => ({ multiplier, burstMean: 1 })),
          ...BURST_MEANS.flatMap((burstMean) =>
            BURST_MULTIPLIERS.map((multiplier) => ({ multiplier, burstMean })),
          ),
        ];
        for (const { multiplier, burstMean } of kinds) {
          out.push({
            index: out.length,
            schedule: schedule.name,
            scenario: {
              rps,
              baseline,
              multiplier,
              weights: schedule.weights,
              intervalSeconds: INTERVAL_SECONDS,
              ...(burstMean > 1 ? { burstMean } : {}),
            },
          });
        }
      }
    }
  }
  return out;
}

export function cellLabel(c: Cell): string {
  const s = c.scenario;
  const bursts = s.burstMean === undefined ? '' : `, bursts of ${s.burstMean}`;
  return `${c.schedule}, ${s.rps} rps, ${(s.baseline * 100).toString()}% base, ×${s.multiplier}${bursts}`;
}

/**
 * The analysis settings a request gets when it writes no analysis block (the schema's defaults:
 * max 5xx ratio 5%, failure limit 3, 50 canary requests per window, sequential on at α = 0.01),
 * built by the same validation and plan normalisation production uses.
 */
export function defaultAnalysisPlan(alpha?: number, errors?: ErrorModel): AnalysisPlan {
  const parsed = validateRolloutRequest({
    route: 'projects/bench/locations/global/httpRoutes/bench',
    stable: 'projects/bench/locations/global/backendServices/stable',
    canary: 'projects/bench/locations/global/backendServices/canary',
    steps: [{ weight: 10, hold: '5m' }],
    analysis: {
      sequential: { ...(alpha === undefined ? {} : { alpha }), ...(errors === undefined ? {} : { errors }) },
    },
  });
  if (!parsed.ok) throw new Error(`benchmark request rejected: ${JSON.stringify(parsed.issues)}`);
  return normalisePlan(parsed.value, {
    metrics: {
      stable: { preset: 'cloudRun', service: 'stable' },
      canary: { preset: 'cloudRun', service: 'canary' },
    },
    timing: {
      leaseMs: 60_000,
      retryBaseMs: 5_000,
      retryMaxMs: 300_000,
      maxRouteAttempts: 5,
    },
    timeScale: 1,
    stalledAfterMs: 900_000,
  }).analysis;
}
