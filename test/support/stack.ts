/**
 * The whole controller on the local cloud for one end-to-end test file: the same
 * startLocalCloud/startController the demo uses, on the emulators the test run started, with a
 * project of its own. Helpers read state the way an operator would (Firestore, the route, the
 * lifecycle events topic, function logs).
 */
import type { Message } from '@google-cloud/pubsub';
import { inject } from 'vitest';
import { createFirestore } from '../../functions/adapters/firestore-client.ts';
import { FirestoreRolloutStore } from '../../functions/adapters/firestore-store.ts';
import { type LifecycleEvent, REJECTED_EVENT_TYPE, type RejectedEvent } from '../../functions/core/events.ts';
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import {
  isTerminal,
  type OperationState,
  type Rollout,
  type RouteOperation,
} from '../../functions/core/state.ts';
import { ENTRY_POINTS } from '../../functions/manifest.ts';
import { type LocalCloud, type LocalCloudOptions, startLocalCloud } from '../../local/cloud.ts';
import { type ControllerOptions, type LocalController, startControllerOn } from '../../local/controller.ts';
import type { DemoApp } from '../../local/demo-apps.ts';
import type { TokenOptions } from '../../local/iam/signer.ts';
import { type LoadRun, startLoad } from '../../local/mesh/load.ts';
import type { HttpRoute } from '../../local/network-services/route-feed.ts';
import { type OutageProxy, startOutageProxy } from '../../local/outage-proxy.ts';

export interface LogLine {
  readonly fn: string;
  readonly severity: string;
  readonly message: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface Stack {
  readonly cloud: LocalCloud;
  readonly controller: LocalController;
  readonly store: FirestoreRolloutStore;
  readonly logs: LogLine[];
  /**
   * Each function's own way to Firestore, when the stack was asked for outages: switch it off for
   * some functions or all (the test's own store reads bypass it).
   */
  readonly firestore: FirestoreOutages | null;
  /**
   * The functions' way to Cloud Monitoring, when the stack was asked for a metrics outage: switch
   * it off and every metric read fails as Monitoring being unreachable (the apps' metrics are still
   * recorded).
   */
  readonly metrics: OutageProxy | null;
  readonly events: LifecycleEvent[];
  /** The `rollout.rejected` events received (refused requests; not in `events`). */
  readonly rejections: RejectedEvent[];
  app(name: string): DemoApp;
  request(app: DemoApp, overrides?: Partial<RolloutRequestInput>): RolloutRequestInput;
  /** Starts steady traffic through the mesh for the app. */
  load(app: DemoApp, rps?: number): LoadRun;
  waitFor(id: string, done: (r: Rollout) => boolean, timeoutMs?: number): Promise<Rollout>;
  waitForTerminal(id: string, timeoutMs?: number): Promise<Rollout>;
  route(app: DemoApp): HttpRoute;
  /** The route operations the controller recorded for a rollout, with what became of them. */
  operations(rolloutId: string): Promise<RecordedOperation[]>;
  /**
   * An ID token of `email` signed by the local IAM stand-in (the key the functions trust), for
   * controlHttp's URL unless `options.audience` says otherwise (test identities: local/identities.ts).
   */
  tokenFor(email: string, options?: Partial<TokenOptions>): string;
  /** Request headers with a bearer token of `email` for the named function's URL. */
  authorized(email: string, fn?: string): Record<string, string>;
  stop(): Promise<void>;
}

export interface FirestoreOutages {
  /** Cuts (or restores) Firestore for the named functions, or for every function. */
  setDown(down: boolean, functions?: readonly string[]): void;
  /** Whether any function is cut off. */
  readonly down: boolean;
}

export interface RecordedOperation extends RouteOperation {
  readonly state: OperationState;
}

export interface StackOptions {
  readonly project: string;
  readonly apps: readonly string[];
  readonly timeScale?: number;
  readonly cloud?: Partial<LocalCloudOptions>;
  readonly controller?: Partial<Pick<ControllerOptions, 'env' | 'tickEveryMs'>>;
  /** Put the functions' Firestore behind a proxy the test can switch off (stack.firestore). */
  readonly firestoreOutage?: boolean;
  /** Put the functions' Cloud Monitoring behind a proxy the test can switch off (stack.metrics). */
  readonly metricsOutage?: boolean;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  process.env['METADATA_SERVER_DETECTION'] = 'none';
  const timeScale = options.timeScale ?? 20;
  const cloud = await startLocalCloud({
    project: options.project,
    timeScale,
    apps: options.apps,
    firestoreHost: inject('firestoreHost'),
    pubsubHost: inject('pubsubHost'),
    // Google's timing (the local cloud's default), scaled: minute points visible up to 180 s late,
    // operations of seconds, route changes reaching the mesh clients one by one.
    keepServed: 200_000,
    ...options.cloud,
  });
  const logs: LogLine[] = [];
  const proxies = new Map<string, OutageProxy>();
  if (options.firestoreOutage) {
    for (const e of ENTRY_POINTS) proxies.set(e.name, await startOutageProxy(cloud.firestoreHost));
  }
  const firestore: FirestoreOutages | null =
    proxies.size === 0
      ? null
      : {
          setDown: (down, functions = [...proxies.keys()]) => {
            for (const name of functions) proxies.get(name)?.setDown(down);
          },
          get down() {
            return [...proxies.values()].some((p) => p.down);
          },
        };
  const metrics = options.metricsOutage ? await startOutageProxy(cloud.monitoring.address) : null;
  const closeProxies = () =>
    Promise.all([...proxies.values(), ...(metrics ? [metrics] : [])].map((p) => p.close()));
  let controller: LocalController;
  try {
    controller = await startControllerOn(cloud, {
      ...options.controller,
      ...(metrics ? { monitoringEndpoint: metrics.host } : {}),
      envFor: Object.fromEntries(
        [...proxies].map(([name, p]) => [name, { FIRESTORE_EMULATOR_HOST: p.host }]),
      ),
      onLog: (fn, line) => {
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          logs.push({
            fn,
            severity: String(parsed['severity']),
            message: String(parsed['message']),
            fields: parsed,
          });
        } catch {
          logs.push({ fn, severity: 'RAW', message: line, fields: {} });
        }
      },
    });
  } catch (error) {
    await closeProxies();
    await cloud.stop();
    throw error;
  }
  const db = createFirestore({ projectId: cloud.project, emulatorHost: cloud.firestoreHost });
  const store = new FirestoreRolloutStore(db);
  const events: LifecycleEvent[] = [];
  const rejections: RejectedEvent[] = [];
  const subscription = controller.pubsub.subscription(controller.eventsSubscription);
  subscription.on('message', (m: Message) => {
    const event = JSON.parse(m.data.toString('utf8')) as LifecycleEvent | RejectedEvent;
    if (event.type === REJECTED_EVENT_TYPE) rejections.push(event);
    else events.push(event);
    m.ack();
  });
  const loads: LoadRun[] = [];

  const waitFor = async (id: string, done: (r: Rollout) => boolean, timeoutMs = 60_000): Promise<Rollout> => {
    const deadline = Date.now() + timeoutMs;
    let last: Rollout | null = null;
    while (Date.now() < deadline) {
      last = await store.get(id);
      if (last !== null && done(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(
      `rollout ${id} did not reach the expected state in ${timeoutMs} ms; last: ${last ? JSON.stringify({ status: last.status, weights: last.weights, intent: last.intent, last: last.analysis.last }) : 'not found'}\n` +
        logs
          .filter((l) => l.severity !== 'DEBUG')
          .slice(-15)
          .map((l) => `[${l.fn}] ${l.severity} ${l.message}`)
          .join('\n'),
    );
  };
  const tokenFor = (email: string, options: Partial<TokenOptions> = {}): string =>
    cloud.iam.signer.idTokenFor(email, { audience: functionUrl(controller, 'controlHttp'), ...options });
  return {
    cloud,
    controller,
    store,
    logs,
    firestore,
    metrics,
    events,
    rejections,
    app: (name) => {
      const app = cloud.apps.find((a) => a.name === name);
      if (!app) throw new Error(`no app ${name}`);
      return app;
    },
    request: (app, overrides = {}) => ({
      route: app.route,
      stable: app.stable,
      canary: app.canary,
      steps: [
        { weight: 20, hold: '1m' },
        { weight: 50, hold: '1m' },
      ],
      analysis: { minRequests: 10 },
      ...overrides,
    }),
    load: (app, rps = 80) => {
      const run = startLoad({ url: cloud.mesh.url, host: app.hostname, rps, concurrency: 16 });
      loads.push(run);
      return run;
    },
    waitFor,
    waitForTerminal: (id, timeoutMs) => waitFor(id, (r) => isTerminal(r.status.phase), timeoutMs),
    operations: async (rolloutId) => {
      const docs = await db.collection('routeOperations').where('rolloutId', '==', rolloutId).get();
      return docs.docs.map((d) => d.data() as RecordedOperation).sort((a, b) => a.startedAt - b.startedAt);
    },
    tokenFor,
    authorized: (email, fn = 'controlHttp') => ({
      'content-type': 'application/json',
      authorization: `Bearer ${tokenFor(email, { audience: functionUrl(controller, fn) })}`,
    }),
    route: (app) => {
      const route = cloud.networkServices.store.route(app.route);
      if (!route) throw new Error(`no route ${app.route}`);
      return route;
    },
    async stop() {
      await Promise.allSettled(loads.map((l) => l.stop()));
      subscription.removeAllListeners('message');
      await subscription.close();
      await db.terminate();
      await controller.stop();
      await closeProxies();
      await cloud.stop();
    },
  };
}

/** The URL of one of the controller's functions. */
export function functionUrl(controller: LocalController, name: string): string {
  const fn = controller.functions.get(name);
  if (fn === undefined) throw new Error(`no function ${name}`);
  return fn.url;
}

/** The route with the target rule's destinations removed, for "nothing else changed" checks. */
export function withoutDestinations(route: HttpRoute, ruleIndex: number): HttpRoute {
  const copy = structuredClone(route);
  const action = copy.rules?.[ruleIndex]?.action;
  if (action) delete action.destinations;
  delete copy.updateTime;
  return copy;
}

/** Raw push delivery to a function, exactly as a Pub/Sub push subscription posts it. */
export async function pushTo(
  baseUrl: string,
  project: string,
  topic: string,
  data: string,
  messageId: string,
) {
  return fetch(`${baseUrl}/projects/${project}/topics/${topic}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      subscription: `projects/${project}/subscriptions/push-${topic}`,
      message: { data: Buffer.from(data).toString('base64'), messageId, attributes: {} },
    }),
  });
}

/** The lifecycle events received so far for one rollout, in version order. */
export function eventsOf(stack: Stack, rolloutId: string): LifecycleEvent[] {
  return stack.events.filter((e) => e.rolloutId === rolloutId).sort((a, b) => a.version - b.version);
}
