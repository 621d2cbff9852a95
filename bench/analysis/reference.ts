/**
 * The reference per-error mixture the issue measures against: uniform over φ = θ / (1 + θ) on
 * (½, 1) — the chance that an error lands on the canary when both backends serve equally —
 * on a 200-point grid of midpoints with equal weights.
 */
import { gridPrior, thetaMixture } from '../../functions/core/analysis/sequential.ts';

const POINTS = 200;
const phis = Array.from({ length: POINTS }, (_, k) => 0.5 + (0.5 * (k + 0.5)) / POINTS);

export const REFERENCE_MIXTURE = thetaMixture(
  `reference:uniform-phi/${POINTS}`,
  phis.map((phi) => Math.log(phi / (1 - phi))),
  phis.map(() => 0),
);

/** The default prior before the reference comparison (60% of the mass on 1.2–2×): "today's judge". */
export const PREVIOUS_PRIOR = gridPrior({
  minRatio: 1.2,
  maxRatio: 100,
  points: 40,
  decay: 0,
  knee: { ratio: 2, mass: 0.6 },
});
