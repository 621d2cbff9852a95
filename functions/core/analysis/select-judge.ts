/**
 * Which judge a rollout uses: absolute checks plus the anytime-valid comparison with stable when
 * the plan turns the comparison on — per-period bets (valid under error bursts) by default, the
 * per-error mixture when the request says errors are independent — the absolute checks alone
 * otherwise.
 */
import type { AnalysisPlan } from '../plan.ts';
import { absoluteJudge } from './absolute.ts';
import { burstJudge, defaultJudge } from './default-judge.ts';
import type { Judge } from './verdict.ts';

export function judgeFor(config: AnalysisPlan): Judge {
  if (!config.sequential.enabled) return absoluteJudge;
  return config.sequential.errors === 'independent' ? defaultJudge : burstJudge;
}
