/**
 * Which judge a rollout uses: the default judge (absolute checks plus the anytime-valid
 * comparison with stable) when the plan turns the comparison on, the absolute checks alone
 * otherwise.
 */
import type { AnalysisPlan } from '../plan.ts';
import { absoluteJudge } from './absolute.ts';
import { defaultJudge } from './default-judge.ts';
import type { Judge } from './verdict.ts';

export function judgeFor(config: AnalysisPlan): Judge {
  return config.sequential.enabled ? defaultJudge : absoluteJudge;
}
