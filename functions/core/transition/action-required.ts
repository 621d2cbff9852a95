/**
 * When the controller cannot change the route safely — the managed rule is gone or cannot be told
 * apart, a person's destination would have to go, the canary is still routed by a rule the
 * controller does not manage, or the API refuses the write — the rollout says once that a person
 * must act (ActionRequired, one event), keeps the change it still wants, and tries again only
 * when the route changes or an operator acts. Nothing retries in a loop meanwhile.
 */
import type { Decision } from '../decision.ts';
import type { RouteSnapshot } from '../routing/snapshot.ts';
import type { ResumableStatus, RouteProblem, Status } from '../state.ts';
import { type Context, commit, readFollowUp, unchanged } from './context.ts';
import { named, problemRoute } from './release.ts';

export function describeProblem(p: RouteProblem): string {
  switch (p.kind) {
    case 'ruleGone':
      return 'no rule of the route routes to the stable or the canary backend any more';
    case 'ruleAmbiguous':
      return `rules [${p.rules.join(', ')}] all route to stable or canary and none can be told to be the managed rule`;
    case 'foreignDestinations':
      return `rule ${p.rule} also routes to ${p.backends.join(', ')}, which the controller will not remove`;
    case 'canaryElsewhere':
      return `the managed rule is back on stable, but rule${p.rules.length > 1 ? 's' : ''} ${p.rules.join(', ')} still send${p.rules.length > 1 ? '' : 's'} the canary traffic`;
    case 'refused':
      return `the route change was refused (${p.message})`;
  }
}

function whatToDo(p: RouteProblem): string {
  switch (p.kind) {
    case 'ruleGone':
    case 'ruleAmbiguous':
      return 'fix the route so exactly one rule routes to the stable and canary backends';
    case 'foreignDestinations':
      return 'move the other destinations to a rule of their own, or abort';
    case 'canaryElsewhere':
      return `take the canary out of rule${p.rules.length > 1 ? 's' : ''} ${p.rules.join(', ')}`;
    case 'refused':
      return 'fix what the message names (permissions, the route), then resume or abort';
  }
}

function resumableOf(status: Status): ResumableStatus {
  switch (status.phase) {
    case 'ActionRequired':
      return status.resume;
    case 'Progressing':
    case 'Paused':
    case 'Promoting':
    case 'RollingBack':
    case 'Aborting':
      return status;
    default:
      return { phase: 'Progressing', step: 0 };
  }
}

/**
 * The rollout waits for a person; the route change it wants stays recorded. `target`: the route
 * of the release the problem is on (named, and read again, in a release of several routes).
 */
export function block(c: Context, problem: RouteProblem, route: RouteSnapshot | null, target = 0): Decision {
  const retry =
    problem.kind === 'refused' ? 'an operator resumes or aborts' : 'the route changes or an operator acts';
  const on = named(c.r, target) === '' ? '' : `route${named(c.r, target)}: `;
  return commit(c, {
    event: 'rollout.action_required',
    reason: `${on}${describeProblem(problem)}; a person must act: ${whatToDo(problem)}. The controller tries again when ${retry}`,
    status: {
      phase: 'ActionRequired',
      problem,
      routeSeen: route?.updateTime ?? null,
      ...problemRoute(c.r, target),
      resume: resumableOf(c.r.status),
    },
  });
}

/** A check on a waiting rollout: nothing to do until the route has changed since the problem was seen. */
export function onCheck(
  c: Context,
  status: Extract<Status, { phase: 'ActionRequired' }>,
  route: RouteSnapshot,
): Decision {
  if (status.routeSeen === null || route.updateTime === status.routeSeen) {
    return unchanged(`waiting for a person: ${describeProblem(status.problem)}`);
  }
  return retry(c, status, `the route changed (updateTime ${status.routeSeen} → ${route.updateTime})`);
}

/** Back to where the rollout was, reading the route afresh before anything is written. */
export function retry(
  c: Context,
  status: Extract<Status, { phase: 'ActionRequired' }>,
  why: string,
): Decision {
  const intent = c.r.intent;
  const renewed = intent === null ? null : { ...intent, leaseUntil: c.now + c.r.plan.timing.leaseMs };
  return commit(c, {
    event: 'rollout.resumed',
    reason: `${why}; trying again: reading the route`,
    status: status.resume,
    intent: renewed,
    ...(renewed === null ? {} : { followUp: readFollowUp(c.r, renewed) }),
  });
}
