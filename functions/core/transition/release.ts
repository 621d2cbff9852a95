/**
 * A release of several routes (docs/state.md, "Releases of several routes"): one intent covers
 * every target; targets are written one after another in the request's order, and `intent.done`
 * lists those already confirmed showing the intent's weights. The intent's next write or read
 * always goes to the first target not done; the change is live once every target is done.
 * A release of one route is the case of one target: nothing here changes how it reads.
 */
import type { ManagedRule } from '../routing/managed-rule.ts';
import type { Rollout, RouteIntent } from '../state.ts';
import { managedRule, type RuleHint, type Target, targetsOf } from '../targets.ts';

export function targetCount(r: Rollout): number {
  return targetsOf(r.spec).length;
}

export function severalTargets(r: Rollout): boolean {
  return targetCount(r) > 1;
}

export function targetAt(r: Rollout, index: number): Target {
  const targets = targetsOf(r.spec);
  return (targets[index] ?? targets[0]) as Target;
}

export function routeAt(r: Rollout, index: number): string {
  return targetAt(r, index).route;
}

/** The index of the target that is `route`, or null when the release does not move it. */
export function targetOfRoute(r: Rollout, route: string): number | null {
  const index = targetsOf(r.spec).findIndex((t) => t.route === route);
  return index < 0 ? null : index;
}

/** The target the intent writes or reads next: the first one not yet confirmed. */
export function currentTarget(r: Rollout, intent: RouteIntent): number {
  const done = intent.done ?? [];
  const n = targetCount(r);
  for (let i = 0; i < n; i += 1) if (!done.includes(i)) return i;
  return n - 1;
}

/** Whether targets other than `at` are still to be confirmed for the intent. */
export function othersRemain(r: Rollout, intent: RouteIntent, at: number): boolean {
  const done = intent.done ?? [];
  return targetsOf(r.spec).some((_, i) => i !== at && !done.includes(i));
}

/** The `done` list of an intent that writes only target `at` (a restore after a late write there). */
export function allBut(r: Rollout, at: number): number[] {
  return targetsOf(r.spec).flatMap((_, i) => (i === at ? [] : [i]));
}

/** Where target `index`'s managed rule was last seen (the first target: also on older documents). */
export function ruleHintOf(r: Rollout, index: number): RuleHint | null {
  const stored = r.ruleHints?.[index];
  if (stored !== undefined) return stored;
  return index === 0 ? { index: r.ruleIndex, shape: r.ruleShape ?? null } : null;
}

/** The rule target `index` shifts, as the core finds it on a read of that target's route. */
export function managedRuleAt(r: Rollout, index: number): ManagedRule {
  return managedRule(targetAt(r, index), ruleHintOf(r, index));
}

/**
 * The rule hints after target `target`'s rule was seen at `hint`. The first target's hint is also
 * kept in `ruleIndex`/`ruleShape`; a release of one route stored without `ruleHints` keeps it so.
 */
export function withRuleHint(
  r: Rollout,
  target: number,
  hint: RuleHint,
): Pick<Rollout, 'ruleIndex' | 'ruleShape' | 'ruleHints'> {
  const first = target === 0 ? hint : { index: r.ruleIndex, shape: r.ruleShape ?? null };
  const base = { ruleIndex: first.index, ruleShape: first.shape };
  if (r.ruleHints === undefined && target === 0 && !severalTargets(r)) return base;
  const hints = targetsOf(r.spec).map(
    (t, i): RuleHint => (i === target ? hint : (ruleHintOf(r, i) ?? { index: t.rule ?? 0, shape: null })),
  );
  return { ...base, ruleHints: hints };
}

/** " <route>" in a release of several routes, nothing in a release of one (its wording stays). */
export function named(r: Rollout, index: number): string {
  return severalTargets(r) ? ` ${routeAt(r, index)}` : '';
}

/** The `route` an ActionRequired status names: the target's, in a release of several routes. */
export function problemRoute(r: Rollout, index: number): { readonly route?: string } {
  return severalTargets(r) ? { route: routeAt(r, index) } : {};
}

/** The target an ActionRequired status is about (absent `route`: the first). */
export function problemTarget(r: Rollout, route: string | undefined): number {
  return route === undefined ? 0 : (targetOfRoute(r, route) ?? 0);
}

/** Who a confirmation names: "route", or every route of a release of several. */
export function confirmedRoutes(r: Rollout): string {
  return severalTargets(r) ? `all ${targetCount(r)} routes` : 'route';
}
