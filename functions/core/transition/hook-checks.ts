/**
 * check hooks: a test of the canary during each weight step's analysis. Called once the step's
 * weights are live and its settle time has passed; each must pass in that step before the step
 * can complete. `failed` counts toward the hook's failureLimit per step (at the limit: rollback);
 * every other status but `passed` is inconclusive — never a pass: called again after backoff.
 */
import type { Decision } from '../decision.ts';
import { describeStep } from '../describe.ts';
import { checksOf, freshGate, type HookGate, hookBackoffMs, hooksAt, pendingHooks } from '../hook-state.ts';
import type { HookResult } from '../hooks.ts';
import { stepDeadline } from '../schedule.ts';
import type { Rollout } from '../state.ts';
import { type Context, commit, pause, unchanged } from './context.ts';
import { describeResults, failureOf, notPassed } from './hook-describe.ts';
import { hookStateOf } from './hook-gates.ts';
import { rollBack } from './route.ts';

/** The check call due now in the current weight step, or null. */
export function checkDue(c: Context): Decision | null {
  const r = c.r;
  const s = r.status;
  if (s.phase !== 'Progressing' || r.intent !== null || r.stepStartedAt === null) return null;
  if (r.plan.steps[s.step]?.kind !== 'weight' || hooksAt(r.plan, 'check').length === 0) return null;
  const gate = checksOf(r) ?? freshGate('check', s.step, r.stepStartedAt);
  const hooks = pendingHooks(r.plan, gate);
  const dueAt = Math.max(r.stepStartedAt + r.plan.analysis.settleMs, gate.nextCallAt ?? 0);
  if (hooks.length === 0 || c.now < dueAt) return null;
  return unchanged(
    `calling check hooks (${hooks.map((h) => h.name).join(', ')}) in ${describeStep(r.plan, s.step)}`,
    { kind: 'callHooks', point: 'check', step: s.step, hooks, nextWeights: null },
  );
}

function afterChecks(c: Context, gate: HookGate, results: readonly HookResult[]): HookGate {
  const passed = [...gate.passed, ...results.filter((x) => !notPassed(x)).map((x) => x.hook)];
  const failures = { ...gate.failures };
  for (const x of results.filter((y) => y.status === 'failed'))
    failures[x.hook] = (failures[x.hook] ?? 0) + 1;
  if (!results.some(notPassed)) return { ...gate, passed, failures };
  const attempts = gate.attempts + 1;
  return { ...gate, passed, failures, attempts, nextCallAt: c.now + hookBackoffMs(c.r.plan, attempts) };
}

function atLimit(r: Rollout, gate: HookGate, results: readonly HookResult[]): HookResult | null {
  const limit = (x: HookResult) => hooksAt(r.plan, 'check').find((h) => h.name === x.hook)?.failureLimit ?? 1;
  return results.find((x) => x.status === 'failed' && (gate.failures[x.hook] ?? 0) >= limit(x)) ?? null;
}

export function onChecksCalled(c: Context, index: number, results: readonly HookResult[]): Decision {
  const r = c.r;
  const s = r.status;
  if (
    (s.phase !== 'Progressing' && s.phase !== 'Paused') ||
    s.step !== index ||
    r.stepStartedAt === null ||
    r.intent !== null
  ) {
    return unchanged(
      `check hook results for ${describeStep(r.plan, index)} came after the rollout moved on (${s.phase}); ignored`,
    );
  }
  const gate = afterChecks(c, checksOf(r) ?? freshGate('check', index, r.stepStartedAt), results);
  const hookState = { ...hookStateOf(r), checks: gate };
  const told = describeResults(results);
  const limit = atLimit(r, gate, results);
  if (limit !== null) {
    const summary = failureOf(limit);
    const cause = { kind: 'hook', point: 'check', hook: limit.hook, status: limit.status, summary } as const;
    const times = gate.failures[limit.hook] ?? 0;
    return rollBack(
      c,
      cause,
      `check hook ${summary}: ${times} failed result${times > 1 ? 's' : ''} in ${describeStep(r.plan, index)}, its failure limit; rolling back`,
      { hooks: results, hookState },
    );
  }
  if (pendingHooks(r.plan, gate).length === 0) {
    return commit(c, {
      event: 'rollout.hook_passed',
      reason: `check hooks passed in ${describeStep(r.plan, index)}: ${told}`,
      hooks: results,
      hookState,
    });
  }
  const overdue = checksPastDeadline(c, gate, results);
  if (overdue !== null) return overdue;
  const failed = results.some((x) => x.status === 'failed');
  return commit(c, {
    event: failed ? 'rollout.hook_failed' : 'rollout.hook_inconclusive',
    reason: `check hooks did not pass in ${describeStep(r.plan, index)} (${told}); ${failed ? 'failed' : 'inconclusive, never a pass'}: calling again in ${Math.round(((gate.nextCallAt ?? c.now) - c.now) / 1000)}s`,
    hooks: results,
    hookState,
  });
}

/** A step past its maximum duration whose checks have not passed pauses, like one without enough traffic. */
function checksPastDeadline(c: Context, gate: HookGate, results: readonly HookResult[]): Decision | null {
  const r = c.r;
  const s = r.status;
  const deadline = stepDeadline(r);
  const first = results.find(notPassed);
  if (s.phase !== 'Progressing' || deadline === null || c.now < deadline || first === undefined) return null;
  const detail = failureOf(first);
  const reason = { kind: 'hook', point: 'check', hook: first.hook, status: first.status, detail } as const;
  return pause(
    c,
    s.step,
    reason,
    'continue',
    `check hook ${detail}: not passed within the step's maximum duration; paused, never passed: resume to call it again for another maximum duration, promote to accept, or abort`,
    {
      hooks: results,
      hookState: { ...hookStateOf(r), checks: { ...gate, nextCallAt: null } },
      analysis: { ...r.analysis, trafficPauses: (r.analysis.trafficPauses ?? 0) + 1 },
    },
  );
}
