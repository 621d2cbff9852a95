/**
 * The one transition function: (rollout, input, now) → decision. Pure and deterministic.
 * A change bumps the version by one and yields exactly one history entry; anything else is
 * an explicit "unchanged" with the reason, so no input is ever silently dropped. Each concern
 * lives in its own module under transition/: steps, route (writes), observe (reads), action-required,
 * verdict, control.
 */
import type { Decision } from './decision.ts';
import type { Input } from './inputs.ts';
import { isTerminal, type Rollout } from './state.ts';
import { contextOf, unchanged } from './transition/context.ts';
import { onAlert, onCommand, onDriverAttached } from './transition/control.ts';
import { onHooksCalled } from './transition/hook-results.ts';
import { onRouteObserved } from './transition/observe.ts';
import { onOperationsPending, onOperationsSettled } from './transition/operations.ts';
import { intentDue, onRouteFailed } from './transition/route.ts';
import { onRoutesChecked } from './transition/route-check.ts';
import { onRouteInspected, onWindowSettling } from './transition/split.ts';
import { onDue } from './transition/steps.ts';
import { onQueued, onSupersede } from './transition/supersede.ts';
import { onVerdict, onWindowPending } from './transition/verdict.ts';

export type { Decision, FollowUp } from './decision.ts';

export function transition(r: Rollout, input: Input, now: number): Decision {
  const c = contextOf(r, input, now);
  if (isTerminal(r.status.phase)) return terminal(r, input, c);
  if (r.status.phase === 'Queued') return onQueued(c, input);
  switch (input.type) {
    case 'start':
    case 'due':
      return onDue(c);
    case 'routeObserved':
      return onRouteObserved(c, input);
    case 'routeFailed':
      return onRouteFailed(c, input.intentId, input.error, input.target);
    case 'operationsSettled':
      return onOperationsSettled(c, input);
    case 'operationsPending':
      return onOperationsPending(c, input.operations);
    case 'routesChecked':
      return onRoutesChecked(c, input);
    case 'verdict':
      return onVerdict(c, input.window, input.judgement);
    case 'windowSettling':
      return onWindowSettling(c, input.window, input.split);
    case 'windowPending':
      return onWindowPending(c, input.window, input.detail, input.retryAt);
    case 'routeInspected':
      return onRouteInspected(c, input.route, input.target);
    case 'alert':
      return onAlert(c, input.incident);
    case 'control':
      return onCommand(c, input);
    case 'driverAttached':
      return onDriverAttached(c, input.execution);
    case 'hooksCalled':
      return onHooksCalled(c, input);
    case 'supersede':
      return onSupersede(c, input);
    default:
      return unchanged(`unknown input "${String((input as { type?: unknown }).type)}"`);
  }
}

/**
 * Terminal phases never change. Only the route can still need the controller — a late write of
 * its own to put right (seen by the driver that made it, or by whoever settles an operation that
 * never reported back), and the restore that does it — and an operator's command that came too
 * late is still answered (control.ts), and what a notification hook came to is recorded.
 */
function terminal(r: Rollout, input: Input, c: ReturnType<typeof contextOf>): Decision {
  if (input.type === 'routeObserved') return onRouteObserved(c, input);
  if (input.type === 'routeFailed') return onRouteFailed(c, input.intentId, input.error, input.target);
  if (input.type === 'operationsSettled') return onOperationsSettled(c, input);
  if (input.type === 'operationsPending') return onOperationsPending(c, input.operations);
  if (input.type === 'control') return onCommand(c, input);
  // A notification's result is recorded (the phase stays); a gate's or check's is ignored.
  if (input.type === 'hooksCalled') return onHooksCalled(c, input);
  if (input.type === 'due' && r.intent !== null) return intentDue(c, r.intent);
  return unchanged(`rollout is ${r.status.phase}; terminal phases never change`);
}
