/**
 * Route operations that outlived their driver — timed out, or the function died while it waited —
 * may still land. Before a change is confirmed they are cancelled or waited for (observe.ts asks);
 * here is what the settling found: still running → try again later, never confirming over them;
 * all finished → judge the route afresh; one landed after the rollout moved on → put it right.
 */
import type { Decision } from '../decision.ts';
import type { RouteSnapshot } from '../routing/snapshot.ts';
import type { OperationState, Rollout, RouteIntent, RouteOperation } from '../state.ts';
import { targetsOf } from '../targets.ts';
import { type Context, commit, unchanged } from './context.ts';
import { describeOperations, lateWrite, onRouteObserved } from './observe.ts';
import { routeAt, targetOfRoute } from './release.ts';

export interface Settled {
  /** The target whose route was read after settling (absent: the first). */
  readonly target?: number;
  readonly intent: RouteIntent | null;
  readonly outcomes: readonly { readonly operation: RouteOperation; readonly state: OperationState }[];
  readonly route: RouteSnapshot;
  readonly pending: readonly RouteOperation[];
}

function backoffMs(r: Rollout, attempts: number): number {
  const { retryBaseMs, retryMaxMs } = r.plan.timing;
  return Math.min(retryMaxMs, retryBaseMs * 2 ** Math.max(0, attempts - 1));
}

export function onOperationsSettled(c: Context, settled: Settled): Decision {
  const intent = c.r.intent;
  const at = settled.target ?? 0;
  const route = routeAt(c.r, at);
  if (intent !== null && settled.intent?.id === intent.id) {
    const running = settled.pending.filter((op) => op.intentId !== intent.id && op.route === route);
    if (running.length > 0) return stillRunning(c, intent, running);
    const observed = { intent, written: false, route: settled.route, pending: settled.pending };
    return onRouteObserved(c, { ...observed, target: at });
  }
  for (const { operation, state } of settled.outcomes) {
    if (state !== 'done' || operation.route !== route) continue;
    const landed = { id: operation.intentId, weights: operation.weights };
    const put = lateWrite(c, landed, settled.route, null, at);
    if (put !== null) return put;
  }
  const what = settled.outcomes.map((o) => `${o.operation.name}: ${o.state}`).join(', ');
  return unchanged(`route operations settled (${what}); the route shows nothing to put right`);
}

function stillRunning(c: Context, intent: RouteIntent, running: readonly RouteOperation[]): Decision {
  const wait = backoffMs(c.r, intent.attempts);
  const problem = `${describeOperations(running)} still running`;
  return commit(c, {
    event: 'rollout.weights_retrying',
    reason: `${problem}; change #${intent.id} is confirmed only once no earlier operation can land: trying again in ${Math.round(wait / 1000)}s`,
    intent: { ...intent, leaseUntil: c.now + wait, lastError: problem },
  });
}

/**
 * Operations that never reported back (the tick finds them): settle those of earlier changes, one
 * route at a time — the first target's route with any (the tick comes back for the others).
 */
export function onOperationsPending(c: Context, operations: readonly RouteOperation[]): Decision {
  const current = c.r.intent?.id;
  const orphans = operations.filter((op) => op.intentId !== current);
  const first = orphans[0];
  if (first === undefined) return unchanged('the pending route operations belong to the change in flight');
  const routes = targetsOf(c.r.spec).map((t) => t.route);
  const route = routes.find((name) => orphans.some((op) => op.route === name)) ?? first.route;
  const target = targetOfRoute(c.r, route) ?? 0;
  const these = orphans.filter((op) => op.route === route);
  return unchanged(
    `${describeOperations(these)} never reported back; settling ${these.length > 1 ? 'them' : 'it'}`,
    { kind: 'settleOperations', route, target, intent: null, operations: these },
  );
}
