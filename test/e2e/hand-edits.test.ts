/**
 * A person edits the route while a rollout runs — eight kinds of edit, at random moments and
 * while the controller's own operation (4 s of scaled time) is pending — and then aborts. Across
 * every trial: no edit is lost silently (it is on the route afterwards, or a history entry keeps
 * it, or the rollout says a person must act), every rollback ends with no rule sending the canary
 * traffic or in ActionRequired with its event, and no terminal phase is ever entered while the
 * canary takes traffic. The moments come from a seeded generator (HAND_EDITS_SEED=n runs the
 * trials again at other moments).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotOf } from '../../functions/adapters/route-rules.ts';
import { type RouteSnapshot, routesTo, sameBackend } from '../../functions/core/routing/snapshot.ts';
import { isTerminal, type Rollout } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { type DemoApp, demoRoute, STATIC_SERVICE } from '../../local/demo-apps.ts';
import type { HttpRoute } from '../../local/network-services/route-feed.ts';
import { eventsOf, type Stack, startStack } from '../support/stack.ts';

const APPS = ['ha', 'hb', 'hc', 'hd'];
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    project: 'e2e-hand-edits',
    apps: APPS,
    timeScale: 20,
    cloud: { operationDelayMs: 200 }, // 4 s of scaled time per route operation
  });
});
afterAll(() => stack.stop());

interface Edit {
  readonly kind: string;
  /** Applied to the route as a person would, in place. */
  apply(route: HttpRoute, app: DemoApp): void;
  /** Whether a route (as the core sees it) carries the edit. */
  present(route: RouteSnapshot, app: DemoApp): boolean;
  /** Rollback wins over a person's split of the managed destinations: replacing it is by design. */
  readonly rollbackReplaces?: boolean;
}

const MANUAL = (app: DemoApp) => app.stable.replace(/-v1$/, '-manual');
const managedIndex = (route: HttpRoute, app: DemoApp) =>
  (route.rules ?? []).findIndex((r) =>
    (r.action?.destinations ?? []).some(
      (d) => sameBackend(d.serviceName ?? '', app.stable) || sameBackend(d.serviceName ?? '', app.canary),
    ),
  );
const managedRule = (route: HttpRoute, app: DemoApp) => route.rules?.[managedIndex(route, app)];

const EDITS: readonly Edit[] = [
  {
    kind: 'the managed destinations’ weights',
    apply: (route, app) => {
      const rule = managedRule(route, app);
      if (rule?.action)
        rule.action.destinations = [
          { serviceName: app.stable, weight: 50 },
          { serviceName: app.canary, weight: 50 },
        ];
    },
    present: () => true,
    rollbackReplaces: true,
  },
  {
    kind: 'an extra destination in the managed rule',
    apply: (route, app) => {
      const action = managedRule(route, app)?.action;
      if (action === undefined) return;
      const weighted = (action.destinations ?? []).map((d) => ({ ...d, weight: d.weight ?? 50 }));
      action.destinations = [...weighted, { serviceName: MANUAL(app), weight: 5 }];
    },
    present: (route, app) =>
      route.rules.some((r) => r.destinations.some((d) => sameBackend(d.backend, MANUAL(app)))),
  },
  {
    kind: 'a rule inserted before the managed rule',
    apply: (route) => {
      route.rules?.unshift({
        matches: [{ prefixMatch: '/inserted' }],
        action: { destinations: [{ serviceName: staticBackend() }] },
      });
    },
    present: (route) => route.rules.some((r) => r.shape.includes('/inserted')),
  },
  {
    kind: 'a rule that sends traffic to the canary',
    apply: (route, app) => {
      route.rules?.unshift({
        matches: [{ prefixMatch: '/beta' }],
        action: { destinations: [{ serviceName: app.canary }] },
      });
    },
    present: (route, app) => route.rules.some((r) => r.shape.includes('/beta') && routesTo(r, app.canary)),
  },
  {
    kind: 'another rule changed',
    apply: (route) => {
      const rule = route.rules?.[0];
      if (rule?.action) rule.action.timeout = '7s';
    },
    present: (route) => route.rules.some((r) => r.shape.includes('"timeout":"7s"')),
  },
  {
    kind: 'a filter of the managed rule changed',
    apply: (route, app) => {
      const rule = managedRule(route, app);
      if (rule?.action) rule.action.requestHeaderModifier = { set: { 'x-edited': 'yes' } };
    },
    present: (route) => route.rules.some((r) => r.shape.includes('x-edited')),
  },
  {
    kind: 'labels changed',
    apply: (route) => {
      route.labels = { ...route.labels, 'edited-by': 'alice' };
    },
    present: (route) => route.shape.includes('edited-by'),
  },
  {
    kind: 'the managed rule deleted',
    apply: (route, app) => {
      route.rules?.splice(managedIndex(route, app), 1);
    },
    present: (route, app) =>
      !route.rules.some((r) => r.destinations.some((d) => sameBackend(d.backend, app.stable))),
  },
];

function staticBackend(): string {
  return `projects/e2e-hand-edits/locations/global/backendServices/${STATIC_SERVICE}`;
}

/** A small seeded generator, so a failing trial can be run again exactly. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

interface Outcome {
  readonly trial: string;
  readonly phase: string;
  readonly silentLoss: boolean;
  readonly canaryRoutedAtEnd: boolean;
  readonly actionRequiredEvent: boolean;
}

async function trial(
  app: DemoApp,
  edit: Edit,
  n: number,
  pending: boolean,
  next: () => number,
): Promise<Outcome> {
  const routes = stack.cloud.networkServices.store;
  routes.seed(demoRoute(app, staticBackend()));
  const id = `${app.name}-${n}`;
  let edited: Promise<void> | null = null;
  const doEdit = () => {
    edited ??= Promise.resolve().then(() => {
      routes.editByHand(app.route, (route) => {
        edit.apply(route, app);
        return route;
      });
    });
  };
  // While pending: the edit lands 40–150 ms into one of the controller's 200 ms operations.
  const unhook = pending
    ? routes.beforeRequest('patch', (resource) => {
        if (resource === app.route) setTimeout(doEdit, 40 + next() * 110);
      })
    : () => {};
  const steps = [
    { weight: 20, hold: '0s' },
    { weight: 50, hold: '10m' },
  ];
  await stack.controller.publish(TOPICS.requests, stack.request(app, { rolloutId: id, steps }));
  await stack.waitFor(id, (r) => r.status.phase !== 'Pending');
  if (!pending) {
    // A random moment after the rollout started, and always before the abort.
    await new Promise((resolve) => setTimeout(resolve, next() * 1200));
    doEdit();
    await edited;
  }
  await new Promise((resolve) => setTimeout(resolve, 100 + next() * 600));
  await stack.controller.publish(TOPICS.control, {
    rolloutId: id,
    command: 'abort',
    actor: 'e2e',
    reason: edit.kind,
  });
  const end = await stack.waitFor(
    id,
    (r) => isTerminal(r.status.phase) || r.status.phase === 'ActionRequired',
    60_000,
  );
  unhook();
  if (edited === null) doEdit(); // no operation ran after the hook was set: edit now, after the end
  await edited;
  return judge(app, edit, id, end, pending);
}

async function judge(app: DemoApp, edit: Edit, id: string, end: Rollout, pending: boolean): Promise<Outcome> {
  const history = await stack.store.history(id);
  const route = snapshotOf(stack.route(app));
  const kept = history.some((h) => h.route?.overwritten && edit.present(h.route.overwritten, app));
  const canaryRouted = route.rules.some((r) => routesTo(r, app.canary));
  return {
    trial: `${edit.kind} (${pending ? 'while an operation is pending' : 'at a random moment'})`,
    phase: end.status.phase,
    silentLoss: !edit.present(route, app) && !kept && !edit.rollbackReplaces,
    // The edit was made before the rollout ended: a terminal phase must mean the canary is out.
    canaryRoutedAtEnd: isTerminal(end.status.phase) && canaryRouted,
    actionRequiredEvent:
      end.status.phase !== 'ActionRequired' ||
      (history.some((h) => h.event === 'rollout.action_required') &&
        (await eventually(() => eventsOf(stack, id).some((e) => e.type === 'rollout.action_required')))),
  };
}

async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

describe('hand edits of eight kinds, then an abort', () => {
  it('loses no edit silently, and never says the canary is out while a rule still sends it traffic', async () => {
    const next = random(Number(process.env['HAND_EDITS_SEED'] ?? 20261201));
    const trials = EDITS.flatMap((edit, k) => [
      { edit, pending: false, n: 2 * k },
      { edit, pending: true, n: 2 * k + 1 },
    ]);
    const outcomes: Outcome[] = [];
    // The apps take turns, four trials at a time.
    for (let i = 0; i < trials.length; i += APPS.length) {
      const batch = trials.slice(i, i + APPS.length);
      outcomes.push(
        ...(await Promise.all(
          batch.map((t, j) => trial(stack.app(APPS[j] ?? ''), t.edit, t.n, t.pending, next)),
        )),
      );
      // Let rollouts waiting for a person go: put each route back as it was, then abort (again).
      await Promise.all(
        batch.map(async (t, j) => {
          const app = stack.app(APPS[j] ?? '');
          const id = `${app.name}-${t.n}`;
          if ((await stack.store.get(id))?.status.phase !== 'ActionRequired') return;
          stack.cloud.networkServices.store.editByHand(app.route, () => demoRoute(app, staticBackend()));
          await stack.controller.publish(TOPICS.control, {
            rolloutId: id,
            command: 'abort',
            actor: 'e2e',
            reason: 'fixed',
          });
          const done = await stack.waitForTerminal(id, 60_000);
          expect(done.status.phase).toBe('Aborted');
          expect(snapshotOf(stack.route(app)).rules.some((r) => routesTo(r, app.canary))).toBe(false);
        }),
      );
    }
    expect(outcomes).toHaveLength(16);
    expect(outcomes.filter((o) => o.silentLoss).map((o) => o.trial)).toEqual([]);
    expect(outcomes.filter((o) => o.canaryRoutedAtEnd).map((o) => o.trial)).toEqual([]);
    expect(outcomes.filter((o) => !o.actionRequiredEvent).map((o) => o.trial)).toEqual([]);
    // Rollbacks that finish occur (which trials wait for a person depends on the moments drawn).
    expect(outcomes.some((o) => o.phase === 'Aborted')).toBe(true);
  });
});
