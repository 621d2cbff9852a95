/**
 * Rollback wins even without Firestore. Every route change is normally written as an intent in
 * Firestore first; when Firestore does not answer within STORE_DEADLINE_SECONDS, an open alert
 * whose policy labels name the route and the canary, or an operator's abort that names them, takes
 * the canary out of the route directly (core `planEviction`: every rule that also routes elsewhere
 * loses the canary; nothing else changes). The message is then left to be delivered again, and
 * once Firestore is back the normal path records the rollback from the route as it finds it.
 * Forward steps never move without Firestore.
 */
import { lastSegment } from '../core/resource-name.ts';
import { isRetryable } from '../errors.ts';
import { RouteError, type TrafficRouter } from '../ports/traffic-router.ts';
import { type Config, routeAllowed } from './config.ts';
import type { Lazy } from './lifecycle-events.ts';
import type { Logger } from './log.ts';

export interface EmergencyDeps {
  readonly router: Lazy<TrafficRouter>;
  readonly config: Config;
  readonly log: Logger;
}

export interface EmergencyTarget {
  /**
   * Full route names: the one an abort names, or every allowed route an alert's short route label
   * fits (one per route kind the allowlist admits under that name; those that exist are acted on).
   */
  readonly routes: readonly string[];
  /** The canary backend's name (its last segment is what is matched). */
  readonly canary: string;
  /** What asked for it: "alert P", "abort by X". */
  readonly why: string;
}

/**
 * The full names of the allowed routes a short name (an alert label) may stand for: allowlist
 * entries that name it, and names it gives under wildcard entries it fits — one per route kind
 * (and location) the allowlist admits it under. Empty when none does.
 */
export function routesNamed(config: Config, short: string): string[] {
  const names = config.allowedRoutes.flatMap((pattern) => {
    if (!pattern.endsWith('*')) return lastSegment(pattern) === short ? [pattern] : [];
    const prefix = pattern.slice(0, -1);
    const candidate = `${prefix.slice(0, prefix.lastIndexOf('/') + 1)}${short}`;
    return candidate.startsWith(prefix) ? [candidate] : [];
  });
  return [...new Set(names)];
}

/**
 * Runs `work` (which needs Firestore). If it has not finished within the store deadline and a
 * target is known, the canary is taken out of the route meanwhile; `work`'s own outcome is then
 * awaited and returned (or thrown: a transient failure gets the message delivered again).
 */
export async function withStoreDeadline<T>(
  deps: EmergencyDeps,
  target: EmergencyTarget | null,
  work: Promise<T>,
): Promise<T> {
  if (target === null) return work;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deps.config.storeDeadlineMs);
  });
  // A store that fails at once (rather than retrying for ~40 s) counts as not answering too.
  const settled = work.then(
    () => 'done' as const,
    (error: unknown) => (isRetryable(error) ? ('late' as const) : ('done' as const)),
  );
  const first = await Promise.race([settled, late]);
  clearTimeout(timer);
  if (first === 'late') {
    await Promise.all(
      target.routes.map((route) => takeCanaryOut(deps, target, route, target.routes.length > 1)),
    );
  }
  return work;
}

/** `candidate`: one of several routes an alert label may stand for (one that does not exist is skipped). */
async function takeCanaryOut(
  deps: EmergencyDeps,
  target: EmergencyTarget,
  route: string,
  candidate: boolean,
): Promise<void> {
  const log = deps.log.child({ route });
  if (!routeAllowed(deps.config, route)) {
    log.error(
      `Firestore is not answering and ${route} is not an allowed route; the canary stays until it does`,
    );
    return;
  }
  try {
    const router = await deps.router();
    const { written, left } = await router.takeOut(route, lastSegment(target.canary));
    const rules =
      left.length > 0
        ? `; rule${left.length > 1 ? 's' : ''} ${left.join(', ')} route only to it and were left`
        : '';
    log.warn(
      `Firestore did not answer within ${deps.config.storeDeadlineMs} ms: ${written ? 'took' : 'found'} the canary ${target.canary} out of the route for ${target.why} without it${rules}; the rollout is recorded once Firestore is back`,
      { canary: target.canary },
    );
  } catch (error) {
    if (candidate && error instanceof RouteError && error.kind === 'notFound') {
      log.info(
        `Firestore is not answering; no route ${route} to take the canary out of (the label fits it too)`,
      );
      return;
    }
    log.error(`Firestore is not answering and taking the canary out of ${route} failed`, { error });
  }
}
