/**
 * Before the first write of a forward change (a step, the promotion, a step down) of a release
 * of several routes, every later target is read. One a person edited pauses the release before
 * any route is written, so an edit on one route never leaves another half moved. A check, not a
 * lock: an edit made between this read and the write is found when that target's turn comes
 * (observe.ts), as for a release of one route.
 */
import type { Decision, FollowUp } from '../decision.ts';
import { read } from '../routing/managed-rule.ts';
import type { RouteSnapshot } from '../routing/snapshot.ts';
import type { RouteIntent } from '../state.ts';
import { targetsOf } from '../targets.ts';
import { describeWeights, sameWeights } from '../weights.ts';
import { block } from './action-required.ts';
import { type Context, unchanged } from './context.ts';
import { drift } from './observe.ts';
import { managedRuleAt, routeAt, severalTargets } from './release.ts';
import { writeFollowUp } from './route.ts';

/** What the check read: each later target's route. */
export interface Checked {
  readonly intent: RouteIntent;
  readonly routes: readonly { readonly target: number; readonly route: RouteSnapshot }[];
}

const FORWARD: readonly RouteIntent['purpose'][] = ['step', 'promote', 'stepDown'];

/** The first follow-up of a change: the check of the later targets where it applies, else the write. */
export function firstFollowUp(c: Context, intent: RouteIntent): FollowUp {
  const checks =
    severalTargets(c.r) &&
    FORWARD.includes(intent.purpose) &&
    !intent.overwrite &&
    intent.attempts === 1 &&
    (intent.done ?? []).length === 0;
  if (!checks) return writeFollowUp(c.r, intent);
  const targets = targetsOf(c.r.spec).flatMap((t, i) => (i === 0 ? [] : [{ route: t.route, target: i }]));
  return { kind: 'checkRoutes', intent, targets };
}

export function onRoutesChecked(c: Context, checked: Checked): Decision {
  const intent = c.r.intent;
  if (intent === null || intent.id !== checked.intent.id || (intent.done ?? []).length > 0) {
    return unchanged(`the check of the release's routes for change #${checked.intent.id} is stale`);
  }
  for (const { target, route } of checked.routes) {
    const reading = read(route, managedRuleAt(c.r, target));
    if (reading.kind === 'gone') return block(c, { kind: 'ruleGone' }, route, target);
    if (reading.kind === 'ambiguous') {
      return block(c, { kind: 'ruleAmbiguous', rules: reading.candidates }, route, target);
    }
    if (reading.others.length > 0) {
      return drift(
        c,
        intent,
        `rule ${reading.index} also sends traffic to ${reading.others.join(', ')}`,
        target,
      );
    }
    const shown = reading.weights;
    if (shown === null || !(sameWeights(shown, intent.previous) || sameWeights(shown, intent.weights))) {
      const what =
        shown === null
          ? `rule ${reading.index} sends no traffic to stable or canary`
          : `route shows ${describeWeights(shown)}; expected ${describeWeights(intent.previous)}`;
      return drift(c, intent, `${what}; found before any route of the release was written`, target);
    }
  }
  return unchanged(
    `every other route of the release shows ${describeWeights(intent.previous)}; writing ${routeAt(c.r, 0)}`,
    writeFollowUp(c.r, intent),
  );
}
