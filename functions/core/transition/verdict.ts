/**
 * A judged analysis window: counted into the step's evidence, a failure rolls back, too many
 * inconclusive windows in a row pause the rollout for a person to look.
 */
import type { AnalysisWindow, Judgement } from '../analysis/verdict.ts';
import { type Decision, NO_FOLLOW_UP } from '../decision.ts';
import { describePause } from '../describe.ts';
import { expectedWindow, isAnalysing, stepDeadline, stepEvidenceSufficient } from '../schedule.ts';
import type { HistoryEntry, Rollout } from '../state.ts';
import { coalescedWindow } from './coalesce.ts';
import { type Context, commit, pause, unchanged } from './context.ts';
import { checkDue } from './hook-checks.ts';
import { rollBack } from './route.ts';
import { completeStep } from './steps.ts';

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

/**
 * A window whose points are not all visible yet: nothing to store; the driver looks again at
 * `retryAt` — unless the step is complete already (its hold judged to its end): then it moves on,
 * as it would have had the window not been looked at so soon.
 */
export function onWindowPending(
  c: Context,
  window: AnalysisWindow,
  detail: string,
  retryAt: number,
): Decision {
  const stale = staleReason(c.r, window);
  if (stale !== null) return unchanged(stale);
  // A window waits for its points here, one after the other: a check hook due meanwhile is called
  // now, or it would wait for as long as windows keep coming.
  const check = checkDue(c);
  if (check !== null) return check;
  const next = completeStep(c, `; window ${window.index}, after the hold, is not visible yet (${detail})`);
  if (next !== null) return next;
  const at = new Date(retryAt).toISOString();
  return {
    kind: 'unchanged',
    reason: `window ${window.index}: ${detail}; looking again at ${at}`,
    followUp: NO_FOLLOW_UP,
    retryAt,
  };
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
    inconclusiveStreak: j.verdict === 'inconclusive' && j.collecting !== true ? a.inconclusiveStreak + 1 : 0,
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
  const coalesced = coalescedWindow(c, window, j);
  if (coalesced !== null) return coalesced;
  const s = r.status;
  const underpowered = pauseForTraffic(c, analysis, verdict, j.summary);
  if (underpowered !== null) return underpowered;
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

/** A step past its maximum duration without the evidence to complete it pauses; it never passes. */
function pauseForTraffic(
  c: Context,
  analysis: Rollout['analysis'],
  verdict: HistoryEntry['verdict'],
  summary: string,
): Decision | null {
  const r = c.r;
  const s = r.status;
  const deadline = stepDeadline(r);
  if (s.phase !== 'Progressing' || deadline === null || c.now < deadline) return null;
  if (stepEvidenceSufficient({ ...r, analysis })) return null;
  const reason = {
    kind: 'notEnoughTraffic',
    canaryRequests: analysis.stepCanaryRequests,
    needed: r.plan.analysis.minRequests,
    forMs: c.now - (r.stepStartedAt ?? c.now),
  } as const;
  const more = Math.round((r.plan.analysis.maxStepMs ?? 0) / 60_000);
  return pause(
    c,
    s.step,
    reason,
    'continue',
    `${describePause(reason)} (${summary}); paused, never passed: resume to wait another ${more} min, promote to accept, or abort`,
    { analysis: { ...analysis, trafficPauses: (analysis.trafficPauses ?? 0) + 1 }, verdict },
  );
}
