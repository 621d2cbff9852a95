/**
 * Windows that show another split than the step's: the route was confirmed, but the data plane
 * (or a person) says otherwise. Such a window is measured and left unjudged; the route is read
 * to tell a person's edit (drift) from clients that have not caught up; a split that never shows
 * pauses the rollout once.
 */
import { describeSplit, type SplitCheck } from '../analysis/split.ts';
import type { AnalysisWindow } from '../analysis/verdict.ts';
import type { Decision } from '../decision.ts';
import { type Reading, read } from '../routing/managed-rule.ts';
import type { RouteSnapshot } from '../routing/snapshot.ts';
import type { Rollout } from '../state.ts';
import { describeWeights, sameWeights, type Weights } from '../weights.ts';
import { block } from './action-required.ts';
import { type Context, commit, managedRuleOf, pause, unchanged } from './context.ts';
import { named, routeAt, severalTargets, targetCount } from './release.ts';
import { staleReason } from './verdict.ts';

/**
 * A window that still showed another split than the step's is left unjudged and the step's
 * windows move past it. When that goes on for `inconclusiveLimit` windows, only a person can
 * tell why (propagation stalled, or the backends serve traffic that does not pass this route):
 * pause once and say so; resuming accepts the split as it is.
 */
export function onWindowSettling(
  c: Context,
  window: AnalysisWindow,
  split: Extract<SplitCheck, { kind: 'notSeen' }>,
): Decision {
  const r = c.r;
  const stale = staleReason(r, window);
  if (stale !== null) return unchanged(stale);
  if (r.analysis.splitSeen) return unchanged(`window ${window.index}: the step's split was already seen`);
  const analysis: Rollout['analysis'] = { ...r.analysis, windowsSettling: r.analysis.windowsSettling + 1 };
  const detail = describeSplit(split);
  const s = r.status;
  if (s.phase === 'Progressing' && analysis.windowsSettling >= r.plan.analysis.inconclusiveLimit) {
    return pause(
      c,
      s.step,
      { kind: 'splitNotLive', windows: analysis.windowsSettling, detail },
      'continue',
      `window ${window.index} not judged: ${detail}; ${analysis.windowsSettling} windows in a row showed another split than the route's — the change may not have reached the mesh clients (propagation stalled?), or the backends serve traffic that does not pass this route; paused: check the mesh, then resume to accept the split as it is`,
      { analysis },
    );
  }
  return commit(c, {
    event: 'rollout.analysis',
    reason: `window ${window.index} not judged: ${detail}; the new weights have not reached every client yet, or the route was changed: reading it`,
    analysis,
    followUp: { kind: 'inspectRoute', route: routeAt(r, 0), target: 0 },
  });
}

/**
 * The route read because the metrics showed another split: a person's change to the managed rule
 * explains it — pause without overwriting it, as for any edit found on a read; the rule gone or
 * ambiguous needs a person; the rollout's own split means the clients have not caught up. In a
 * release of several routes every target is read in turn (`target`: the one read).
 */
export function onRouteInspected(c: Context, route: RouteSnapshot, target = 0): Decision {
  const r = c.r;
  const s = r.status;
  if (r.intent !== null || (s.phase !== 'Progressing' && s.phase !== 'Paused')) {
    return unchanged(
      `route inspection ignored: ${r.intent !== null ? 'a route change is in flight' : s.phase}`,
    );
  }
  const reading = read(route, managedRuleOf(r, target));
  if (reading.kind === 'gone') return block(c, { kind: 'ruleGone' }, route, target);
  if (reading.kind === 'ambiguous')
    return block(c, { kind: 'ruleAmbiguous', rules: reading.candidates }, route, target);
  const edited = editOf(reading, r.weights);
  if (edited === null) return caughtUp(c, target);
  if (s.phase === 'Paused' && s.reason.kind === 'drift')
    return unchanged(`already paused: ${s.reason.detail}`);
  const detail = severalTargets(r) ? `route ${routeAt(r, target)}: ${edited}` : edited;
  return pause(
    c,
    s.step,
    { kind: 'drift', detail },
    'applyStep',
    `route${named(r, target)} was edited outside the controller (${edited}), as the metrics showed; paused without overwriting it`,
    { rule: { index: reading.index, shape: reading.shape, target } },
  );
}

/** What a person changed on the managed rule, against the split the rollout set; null: nothing. */
function editOf(reading: Extract<Reading, { kind: 'found' }>, weights: Weights): string | null {
  const shown = reading.weights;
  if (reading.others.length > 0) {
    return `rule ${reading.index} also sends traffic to ${reading.others.join(', ')}`;
  }
  if (shown === null) return `rule ${reading.index} sends no traffic to stable or canary`;
  return sameWeights(shown, weights)
    ? null
    : `route shows ${describeWeights(shown)}; the rollout set ${describeWeights(weights)}`;
}

/** This target shows the rollout's split: read the next one, or say the clients have not caught up. */
function caughtUp(c: Context, target: number): Decision {
  const r = c.r;
  const next = target + 1;
  if (next < targetCount(r)) {
    return unchanged(
      `route${named(r, target)} still shows ${describeWeights(r.weights)}; reading ${routeAt(r, next)}`,
      { kind: 'inspectRoute', route: routeAt(r, next), target: next },
    );
  }
  const shows = severalTargets(r) ? `every route still shows` : 'route still shows';
  return unchanged(`${shows} ${describeWeights(r.weights)}: its clients have not all caught up`);
}
