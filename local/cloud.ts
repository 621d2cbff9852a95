/**
 * The local Google Cloud the controller runs against: Google's Firestore and Pub/Sub emulators,
 * the Network Services API stand-in holding demo HTTPRoutes, a mesh proxy that follows them to
 * demo backends and records every request into the Cloud Monitoring stand-in, and alert policies
 * evaluated over those series and delivered to Pub/Sub. It keeps Google's timing by default
 * (timing.ts): minute points visible minutes late, operations of seconds, route changes
 * reaching the mesh's clients one by one.
 */

import { type AlertEvaluator, startAlertEvaluator } from './alerting/evaluator.ts';
import { parseAlertPolicy } from './alerting/policy.ts';
import type { GroupMembers } from './cloud-identity/directory.ts';
import { type CloudIdentityServer, startCloudIdentityServer } from './cloud-identity/server.ts';
import {
  canaryAlertPolicy,
  type DemoApp,
  demoApp,
  demoRoute,
  notificationChannel,
  STATIC_SERVICE,
} from './demo-apps.ts';
import { type Emulator, startEmulator } from './emulators.ts';
import { hooksServiceAccount, type IamServer, startIamServer } from './iam/server.ts';
import { workflowsServiceAccount } from './identities.ts';
import type { DemoBehaviour } from './mesh/demo-backend.ts';
import { type DemoBackend, startDemoBackend } from './mesh/demo-backend.ts';
import { type MeshProxy, startMeshProxy } from './mesh/proxy.ts';
import { CloudRunRecorder } from './monitoring/cloud-run-recorder.ts';
import { type MonitoringServer, startMonitoringServer } from './monitoring/server.ts';
import { type NetworkServicesServer, startNetworkServicesServer } from './network-services/server.ts';
import { type ProtocolPlanes, startProtocolPlanes } from './protocols.ts';
import { createTopology } from './pubsub-topology.ts';
import { type CloudTiming, cloudTiming, type DelaySpec, type TimingProfile } from './timing.ts';

export interface LocalCloudOptions {
  readonly project?: string;
  /** Divides minute-scale periods (alignment minimum, alert windows, metric points) and Google's delays. */
  readonly timeScale?: number;
  /**
   * Google's timing (default) or the ideal switch for tests that need exact numbers; parts may
   * be overridden (values already scaled).
   */
  readonly timing?: TimingProfile;
  readonly timingOverrides?: Partial<Omit<CloudTiming, 'profile'>>;
  /** How many forwarded requests the mesh keeps for inspection (mesh.served()); default 0. */
  readonly keepServed?: number;
  /** Reuse running emulators instead of starting them (tests). */
  readonly firestoreHost?: string;
  readonly pubsubHost?: string;
  /** Demo applications, each with a route, a stable and a canary backend. */
  readonly apps?: readonly string[];
  /** How long each route write's long-running operation takes (overrides the timing's). */
  readonly operationDelayMs?: DelaySpec;
  /**
   * Canary 5xx-ratio threshold of each app's alert policy (default 0.1 for every app);
   * an app mapped to null gets no policy, `false` turns alerting off.
   */
  readonly alerts?: false | Readonly<Record<string, number | null>>;
  /** Behaviour every backend starts with. */
  readonly baseline?: Partial<DemoBehaviour>;
  /**
   * Also serve each app over gRPC, TCP and TLS (protocols.ts): demo backends, mesh listeners and
   * a GRPCRoute, TCPRoute and TLSRoute per app; default false.
   */
  readonly protocols?: boolean;
  /** The groups of the Cloud Identity stand-in: group email → members (users or groups); default DEMO_GROUPS. */
  readonly groups?: GroupMembers;
}

export interface LocalCloud {
  readonly project: string;
  readonly timeScale: number;
  readonly timing: CloudTiming;
  readonly firestoreHost: string;
  readonly pubsubHost: string;
  readonly networkServices: NetworkServicesServer;
  readonly monitoring: MonitoringServer;
  readonly recorder: CloudRunRecorder;
  readonly mesh: MeshProxy;
  /** Demo backends by Cloud Run service name. */
  readonly backends: ReadonlyMap<string, DemoBackend>;
  readonly apps: readonly DemoApp[];
  readonly alerting: AlertEvaluator | null;
  /** The gRPC, TCP and TLS data plane, when asked for (options.protocols). */
  readonly protocols: ProtocolPlanes | null;
  /** IAM Credentials stand-in: mints the ID tokens hooks receive, serves their JWKS. */
  readonly iam: IamServer;
  /** The account hooks are called as (the only one the IAM stand-in knows). */
  readonly hooksServiceAccount: string;
  /** Cloud Identity Groups stand-in: resolves `group:` principals of the authorization policy. */
  readonly cloudIdentity: CloudIdentityServer;
  /** The endpoints as environment variables (what `npm run local` prints). */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export const DEFAULT_BASELINE: Partial<DemoBehaviour> = { errorRatio: 0.002, latencyMs: 15, jitterMs: 10 };

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const project = options.project ?? 'demo-project';
  const timeScale = options.timeScale ?? 1;
  const timing = cloudTiming(options.timing ?? 'google', timeScale, {
    ...options.timingOverrides,
    ...(options.operationDelayMs === undefined ? {} : { operation: options.operationDelayMs }),
  });
  const cleanup: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    cleanup.length = 0;
  };
  try {
    const emulators: Emulator[] = [];
    const need = [
      ...(options.firestoreHost ? [] : (['firestore'] as const)),
      ...(options.pubsubHost ? [] : (['pubsub'] as const)),
    ];
    const started = await Promise.allSettled(need.map((kind) => startEmulator(kind)));
    for (const s of started) if (s.status === 'fulfilled') emulators.push(s.value);
    cleanup.push(async () => {
      await Promise.all(emulators.map((e) => e.stop()));
    });
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const hostOf = (kind: Emulator['kind'], given: string | undefined) =>
      given ?? emulators.find((e) => e.kind === kind)?.host ?? '';
    const firestoreHost = hostOf('firestore', options.firestoreHost);
    const pubsubHost = hostOf('pubsub', options.pubsubHost);

    const apps = (options.apps ?? ['checkout']).map((name) => demoApp(project, name));
    const networkServices = await startNetworkServicesServer({
      operationDelayMs: timing.operation,
      seed: timing.seed,
    });
    cleanup.push(() => networkServices.close());
    const monitoring = await startMonitoringServer({
      minAlignmentPeriodMs: Math.floor(60_000 / timeScale),
      ingestionDelayMs: timing.ingestionDelay,
      seed: timing.seed,
    });
    cleanup.push(() => monitoring.close());
    const hooksAccount = hooksServiceAccount(project);
    const iam = await startIamServer({ serviceAccounts: [hooksAccount, workflowsServiceAccount(project)] });
    cleanup.push(() => iam.close());
    const cloudIdentity = await startCloudIdentityServer(options.groups ? { groups: options.groups } : {});
    cleanup.push(() => cloudIdentity.close());
    const recorder = new CloudRunRecorder({
      endpoint: monitoring.endpoint,
      project,
      flushMs: timing.flushMs,
      samplingPeriodMs: timing.samplingPeriodMs,
    });
    cleanup.push(() => recorder.close());

    const baseline = { ...DEFAULT_BASELINE, ...options.baseline };
    const backends = new Map<string, DemoBackend>();
    const services = [STATIC_SERVICE, ...apps.flatMap((a) => [a.stableService, a.canaryService])];
    for (const service of services) {
      const backend = await startDemoBackend({ ...baseline, name: service });
      backends.set(service, backend);
      cleanup.push(() => backend.close());
    }
    const backendUrls: Record<string, { url: string; service: string }> = {};
    for (const [service, backend] of backends) backendUrls[service] = { url: backend.url, service };

    const staticBackend = `projects/${project}/locations/global/backendServices/${STATIC_SERVICE}`;
    for (const app of apps) networkServices.store.seed(demoRoute(app, staticBackend));
    const mesh = await startMeshProxy({
      feed: networkServices.store,
      backends: backendUrls,
      recorder,
      propagationMs: timing.propagation,
      seed: timing.seed,
      keepServed: options.keepServed ?? 0,
    });
    cleanup.push(() => mesh.close());
    const protocols = options.protocols
      ? await startProtocolPlanes({
          project,
          apps,
          networkServices: networkServices.store,
          recorder,
          monitoringEndpoint: monitoring.endpoint,
          timing,
          baseline,
        })
      : null;
    if (protocols) cleanup.push(() => protocols.close());

    // Topics exist from the start so alerts and CLI publishes have somewhere to go.
    await createTopology({ pubsubHost, project, pushTargets: {} });

    let alerting: AlertEvaluator | null = null;
    const thresholds = options.alerts === false ? null : (options.alerts ?? {});
    const policies =
      thresholds === null
        ? []
        : apps.flatMap((app) => {
            const threshold = thresholds[app.name] === undefined ? 0.1 : thresholds[app.name];
            return threshold === null || threshold === undefined
              ? []
              : [canaryAlertPolicy(project, app, threshold)];
          });
    if (policies.length > 0) {
      monitoring.alertPolicies.set(
        project,
        policies.map((p, i) => parseAlertPolicy(p, project, i)),
      );
      alerting = startAlertEvaluator({
        source: monitoring,
        project,
        policies,
        channels: [notificationChannel(project)],
        timeScale,
        pubsubEndpoint: pubsubHost,
      });
      const evaluator = alerting;
      cleanup.push(() => evaluator.close());
    }

    const first = apps[0];
    const env: Record<string, string> = {
      GOOGLE_CLOUD_PROJECT: project,
      FIRESTORE_EMULATOR_HOST: firestoreHost,
      PUBSUB_EMULATOR_HOST: pubsubHost,
      NETWORK_SERVICES_ENDPOINT: networkServices.url,
      MONITORING_ENDPOINT: monitoring.address,
      IAM_CREDENTIALS_ENDPOINT: iam.url,
      HOOKS_SERVICE_ACCOUNT: hooksAccount,
      HOOKS_JWKS_URL: iam.jwksUrl,
      CLOUD_IDENTITY_ENDPOINT: cloudIdentity.url,
      MESH_PROXY: mesh.url,
      ...(first
        ? {
            DEMO_ROUTE: first.route,
            DEMO_HOSTNAME: first.hostname,
            DEMO_STABLE: first.stable,
            DEMO_CANARY: first.canary,
          }
        : {}),
      ...(first ? { DEMO_CANARY_ADMIN: backends.get(first.canaryService)?.url ?? '' } : {}),
    };
    return {
      project,
      timeScale,
      timing,
      firestoreHost,
      pubsubHost,
      networkServices,
      monitoring,
      recorder,
      mesh,
      backends,
      apps,
      alerting,
      protocols,
      iam,
      hooksServiceAccount: hooksAccount,
      cloudIdentity,
      env,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Shell lines that point a terminal at the local cloud (like `gcloud beta emulators pubsub env-init`). */
export function exportLines(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([key, value]) => `export ${key}=${JSON.stringify(value)}`)
    .join('\n');
}
