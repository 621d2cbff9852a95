/**
 * A judged analysis window: counted into the step's evidence, a failure rolls back, too many
 * inconclusive windows in a row pause the rollout for a person to look.
 */
import type { AnalysisWindow, Judgement } from '../analysis/verdict.ts';
import type { Decision } from '../decision.ts';
import { expectedWindow, isAnalysing } from '../schedule.ts';
import type { HistoryEntry, Rollout } from '../state.ts';
import { type Context, commit, pause, unchanged } from './context.ts';
import { rollBack } from './route.ts';

/** Why a measurement of `window` no longer applies, or null. */
export function staleReason(r: Rollout, window: AnalysisWindow): string | null {
  if (!isAnalysing(r)) {
    return `verdict for window ${window.index} ignored: ${r.status.phase} with no settled canary traffic`;
  }
  const expected = expectedWindow(r);
  if (window.start !== expected.start || window.index < expected.index) {
    return `verdict for window ${window.index} is stale (expected window ${expected.index} from ${expected.start})`;
  }
  return null;
}

export function onVerdict(c: Context, window: AnalysisWindow, j: Judgement): Decision {
  const r = c.r;
  const stale = staleReason(r, window);
  if (stale !== null) return unchanged(stale);
  const verdict: HistoryEntry['verdict'] = {
    verdict: j.verdict,
    summary: j.summary,
    window,
    evidence: j.evidence,
  };
  const a = r.analysis;
  const analysis: Rollout['analysis'] = {
    ...a,
    windowsJudged: window.index - a.windowsSettling,
    splitSeen: true,
    judge: j.state,
    stepCanaryRequests: a.stepCanaryRequests + j.canaryRequests,
    inconclusiveStreak: j.verdict === 'inconclusive' ? a.inconclusiveStreak + 1 : 0,
    last: { verdict: j.verdict, summary: j.summary, window, at: c.now, evidence: j.evidence },
  };
  if (j.verdict === 'fail') {
    return rollBack(
      c,
      { kind: 'verdict', summary: j.summary },
      `analysis failed: ${j.summary}; rolling back`,
      {
        analysis,
        verdict,
      },
    );
  }
  const s = r.status;
  if (s.phase === 'Progressing' && analysis.inconclusiveStreak >= r.plan.analysis.inconclusiveLimit) {
    return pause(
      c,
      s.step,
      { kind: 'inconclusive', windows: analysis.inconclusiveStreak },
      'continue',
      `${analysis.inconclusiveStreak} inconclusive windows in a row (${j.summary}); paused: check the metrics source or traffic, then resume`,
      { analysis, verdict },
    );
  }
  return commit(c, {
    event: 'rollout.analysis',
    reason: `window ${window.index}: ${j.verdict} (${j.summary})`,
    analysis,
    verdict,
  });
}
