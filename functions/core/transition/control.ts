/**
 * What people and alerts ask for: operator commands (pause, resume, promote, abort), Monitoring
 * incidents, and the workflow execution that drives the rollout. Rollback wins: an abort or an
 * open alert rolls back from any phase that is not already rolling back.
 */
import type { Decision } from '../decision.ts';
import { describeProgress } from '../describe.ts';
import type { ControlCommand, IncidentInput, Input } from '../inputs.ts';
import { isAnalysing, judgedUntil } from '../schedule.ts';
import { isTerminal, type Rollout, type Status } from '../state.ts';
import { describeProblem, retry } from './action-required.ts';
import { onAlertClosed } from './coalesce.ts';
import { type Context, commit, pause, unchanged } from './context.ts';
import { rollBack } from './route.ts';
import { abortGradually, onControlWhileAborting } from './step-down.ts';
import { enterStep, promoteNow } from './steps.ts';

/**
 * An operator's command. One issued before the rollout last changed (a late delivery: Pub/Sub
 * redelivers after an outage) is never dropped without a word: applied, its entry says when it was
 * issued; not applicable any more, it is recorded as overtaken — history, event and log name when it
 * was issued and what the rollout had done meanwhile.
 */
export function onCommand(
  c: Context,
  input: Pick<Extract<Input, { type: 'control' }>, 'command' | 'note' | 'issuedAt' | 'gradual'>,
): Decision {
  const r = c.r;
  const decision = isTerminal(r.status.phase)
    ? unchanged(
        `rollout is ${r.status.phase}; terminal phases never change${input.command === 'retry' ? '; a retry starts a new rollout' : ''}`,
      )
    : onControl(c, input.command, input.note, input.gradual ?? null);
  const issued = input.issuedAt ?? null;
  if (issued === null || r.updatedAt <= issued) return decision;
  const when = `issued at ${new Date(issued).toISOString()}, ${Math.round((c.now - issued) / 1000)}s before it arrived`;
  if (decision.kind === 'changed') {
    return { ...decision, entry: { ...decision.entry, reason: `${decision.entry.reason} (${when})` } };
  }
  return commit(c, {
    event: 'rollout.command_overtaken',
    reason: `${input.command} by ${c.actor} (${when}) came after the rollout had moved on — it is ${describeProgress(r.plan, r.status)} since ${new Date(r.updatedAt).toISOString()} (version ${r.version}): ${decision.reason}; nothing was changed`,
  });
}

function onControl(
  c: Context,
  command: ControlCommand,
  note: string,
  gradual: { readonly holdMs: number } | null,
): Decision {
  const s = c.r.status;
  if (s.phase === 'ActionRequired') return onControlWhileWaiting(c, s, command, note);
  if (command === 'abort' && gradual !== null) return abortGradually(c, gradual.holdMs, note);
  if (s.phase === 'Aborting' && command !== 'abort' && command !== 'retry') {
    return onControlWhileAborting(c, s, command, note);
  }
  const who = c.actor;
  switch (command) {
    case 'pause':
      return onPause(c, s, note);
    case 'resume':
      return onResume(c, s, note);
    case 'promote':
      if (s.phase === 'Pending' || s.phase === 'Progressing' || s.phase === 'Paused') {
        return promoteNow(c, `promoted by ${who}: ${note}${unjudgedTraffic(c.r)}`);
      }
      return unchanged(
        s.phase === 'Promoting' ? 'already promoting' : `cannot promote while ${s.phase}; rollback wins`,
      );
    case 'abort':
      if (s.phase === 'RollingBack') return unchanged('already rolling back to stable');
      return rollBack(c, { kind: 'abort', actor: who, note }, `aborted by ${who}: ${note}; restoring stable`);
    case 'retry':
      return unchanged(
        `only a finished rollout (Failed, RolledBack, Aborted) can be retried; this one is ${s.phase}`,
      );
    default:
      return unchanged(`unknown control command "${String(command)}"`);
  }
}

/**
 * A person acted while the rollout waits on the route: resume tries again; abort tries the
 * rollback (again); promote moves forward unless it is rolling back — rollback wins.
 */
function onControlWhileWaiting(
  c: Context,
  s: Extract<Status, { phase: 'ActionRequired' }>,
  command: ControlCommand,
  note: string,
): Decision {
  const who = c.actor;
  const rollingBack = s.resume.phase === 'RollingBack';
  switch (command) {
    case 'resume':
      return retry(c, s, `resumed by ${who}: ${note}`);
    case 'abort':
      if (rollingBack) return retry(c, s, `abort by ${who}: ${note}`);
      return rollBack(c, { kind: 'abort', actor: who, note }, `aborted by ${who}: ${note}; restoring stable`);
    case 'promote':
      if (rollingBack) return unchanged('cannot promote while rolling back; rollback wins');
      if (s.resume.phase === 'Aborting') return unchanged('cannot promote while stepping down for an abort');
      return promoteNow(c, `promoted by ${who}: ${note}`);
    default:
      return unchanged(`a person must act on the route first (${describeProblem(s.problem)}); then resume`);
  }
}

function onPause(c: Context, s: Status, note: string): Decision {
  const reason = { kind: 'operator', actor: c.actor, note } as const;
  if (s.phase === 'Progressing') {
    return pause(c, s.step, reason, 'continue', `paused by ${c.actor}: ${note}`);
  }
  if (s.phase === 'Pending') {
    return pause(c, 0, reason, 'applyStep', `paused by ${c.actor} before the first step: ${note}`);
  }
  return unchanged(s.phase === 'Paused' ? 'already paused' : `cannot pause while ${s.phase}; abort to stop`);
}

function onResume(c: Context, s: Status, note: string): Decision {
  if (s.phase !== 'Paused') return unchanged(`not paused (${s.phase}); nothing to resume`);
  const why = `resumed by ${c.actor}: ${note}`;
  switch (s.resume) {
    case 'nextStep':
      return enterStep(c, s.step + 1, why);
    case 'applyStep':
      // After a hand edit the operator has looked at the route: the step's weights replace it.
      return enterStep(c, s.step, why, s.reason.kind === 'drift');
    case 'continue':
      return commit(c, {
        event: 'rollout.resumed',
        reason: why,
        status: { phase: 'Progressing', step: s.step },
        // A person looked at the split the metrics show and accepted it.
        analysis: {
          ...c.r.analysis,
          inconclusiveStreak: 0,
          splitSeen: c.r.analysis.splitSeen || s.reason.kind === 'splitNotLive',
        },
      });
  }
}

export function onAlert(c: Context, incident: IncidentInput): Decision {
  const lastAlert = {
    incidentId: incident.incidentId,
    policy: incident.policy,
    state: incident.state,
    at: c.now,
  };
  if (incident.state === 'closed') return onAlertClosed(c, incident, lastAlert);
  const s = c.r.status;
  if (s.phase === 'RollingBack' || (s.phase === 'ActionRequired' && s.resume.phase === 'RollingBack')) {
    return unchanged(`already rolling back; alert ${incident.policy} noted`);
  }
  return rollBack(
    c,
    { kind: 'alert', incidentId: incident.incidentId, policy: incident.policy, summary: incident.summary },
    `alert ${incident.policy} opened (${incident.summary}); rolling back`,
    { lastAlert },
  );
}

export function onDriverAttached(c: Context, execution: string): Decision {
  const driver = c.r.driver;
  if (driver.kind !== 'workflow')
    return unchanged('driven by the scheduler; no workflow execution to attach');
  if (driver.execution === execution) return unchanged(`execution ${execution} already attached`);
  if (driver.execution !== null) {
    // The first execution attached drives the rollout; another one is told to stop at its next call.
    return unchanged(
      `execution ${driver.execution} already drives this rollout; ${execution} is told to stop`,
    );
  }
  return commit(c, {
    event: 'rollout.driver_attached',
    reason: `workflow execution ${execution} drives this rollout`,
    driver: { kind: 'workflow', execution },
  });
}

/** What an operator's promotion skips: the canary traffic of the step no window has judged. */
function unjudgedTraffic(r: Rollout): string {
  if (!isAnalysing(r) || r.stepStartedAt === null) return '';
  const until = judgedUntil(r);
  const since = new Date(until ?? r.stepStartedAt).toISOString();
  return `; the canary's traffic since ${since} was not judged (promoted by a person, not by analysis)`;
}
