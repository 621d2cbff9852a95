/**
 * Builds the runtime of one function instance from its configuration. Only the Firestore store
 * is created eagerly (every function needs it); every other client is imported on first use,
 * so an entry point loads only the Google clients it actually calls.
 */
import { createFirestore } from './adapters/firestore-client.ts';
import { FirestoreRolloutStore } from './adapters/firestore-store.ts';
import { type Config, loadConfig, projectNames } from './app/config.ts';
import { groupMembershipFor } from './app/group-lookup.ts';
import { type Lazy, LifecycleEvents } from './app/lifecycle-events.ts';
import { createLogger, type Logger } from './app/log.ts';
import { RolloutExecutor } from './app/rollout-executor.ts';
import { startDriver } from './app/start-rollout.ts';
import { judgeFor } from './core/analysis/select-judge.ts';
import type { AlertPolicies } from './ports/alert-policies.ts';
import type { EventPublisher } from './ports/event-publisher.ts';
import type { HookCaller } from './ports/hook-caller.ts';
import type { MetricsReader } from './ports/metrics-reader.ts';
import type { RolloutStore } from './ports/rollout-store.ts';
import type { TrafficRouter } from './ports/traffic-router.ts';
import type { WorkflowExecutions } from './ports/workflow-executions.ts';
import type { Runtime } from './runtime.ts';

/** Creates the value on first call and shares it (and a failed attempt is tried again next time). */
export function lazy<T>(create: () => Promise<T>): Lazy<T> {
  let pending: Promise<T> | null = null;
  return () => {
    pending ??= create().catch((error: unknown) => {
      pending = null;
      throw error;
    });
    return pending;
  };
}

export function createRuntime(
  config: Config,
  log: Logger = createLogger({ service: 'canary-controller' }),
  /** Wraps the Firestore store (a benchmark or test counting its reads); none in production. */
  decorateStore: (store: RolloutStore) => RolloutStore = (store) => store,
): Runtime {
  const clock = () => Date.now();
  const db = createFirestore({
    projectId: config.project,
    databaseId: config.firestoreDatabase,
    ...(config.endpoints.firestoreEmulator ? { emulatorHost: config.endpoints.firestoreEmulator } : {}),
  });
  const store = decorateStore(new FirestoreRolloutStore(db));

  const { router, metrics, executions, publisher, hooks } = googleClients(config);
  const events = new LifecycleEvents(publisher, config.eventsTopic, log, store);
  const executor: RolloutExecutor = new RolloutExecutor({
    store,
    router,
    metrics,
    hooks,
    judgeFor,
    events,
    clock,
    log,
    // A queued rollout whose turn came when this instance ended the route's active rollout.
    startNext: async (next, actor) => {
      await startDriver({ store, executions, executor, config, clock }, next, actor);
    },
  });
  const groups = groupMembershipFor(config, log);
  return {
    config,
    log,
    clock,
    store,
    router,
    metrics,
    executions,
    publisher,
    hooks,
    events,
    executor,
    groups,
  };
}

/** The Google API clients, each imported and created on first use. */
export function googleClients(config: Config) {
  const router: Lazy<TrafficRouter> = lazy(async () => {
    const { RouteRouter } = await import('./adapters/route-router.ts');
    return new RouteRouter({
      ...(config.endpoints.networkServices ? { rootUrl: config.endpoints.networkServices } : {}),
      project: projectNames(config),
      poll: {
        initialMs: config.route.pollInitialMs,
        maxMs: config.route.pollMaxMs,
        timeoutMs: config.route.operationTimeoutMs,
      },
    });
  });
  const metrics: Lazy<MetricsReader> = lazy(async () => {
    const { CloudMonitoringMetrics } = await import('./adapters/cloud-monitoring-metrics.ts');
    return new CloudMonitoringMetrics({
      projectId: config.project,
      ...(config.endpoints.monitoring ? { localEndpoint: config.endpoints.monitoring } : {}),
    });
  });
  const executions: Lazy<WorkflowExecutions> = lazy(async () => {
    const { WorkflowExecutionsClient } = await import('./adapters/workflow-executions.ts');
    return new WorkflowExecutionsClient(
      config.endpoints.workflows ? { rootUrl: config.endpoints.workflows } : {},
    );
  });
  const publisher: Lazy<EventPublisher> = lazy(async () => {
    const { PubSubPublisher } = await import('./adapters/pubsub-publisher.ts');
    return new PubSubPublisher(config.project);
  });
  const hooks: Lazy<HookCaller> = lazy(async () => {
    const { createHookCaller } = await import('./adapters/http-hook-caller.ts');
    return createHookCaller(config);
  });
  return { router, metrics, executions, publisher, hooks };
}

/** The project's Cloud Monitoring alert policies (onAlert's trust check), created on first use. */
export function alertPoliciesFor(config: Config): Lazy<AlertPolicies> {
  return lazy(async () => {
    const { MonitoringAlertPolicies } = await import('./adapters/monitoring-alert-policies.ts');
    return new MonitoringAlertPolicies({
      projectId: config.project,
      ...(config.endpoints.monitoring ? { localEndpoint: config.endpoints.monitoring } : {}),
    });
  });
}

/**
 * The runtime of this process, from its environment. A configuration error is logged as one
 * structured line and rethrown, so the instance fails to start with the reason in the logs.
 */
export function runtimeFromEnvironment(): Runtime {
  const log = createLogger({ service: 'canary-controller' });
  try {
    return createRuntime(loadConfig(process.env), log);
  } catch (error) {
    log.error(`cannot start: ${(error as Error).message}`, { error });
    throw error;
  }
}
