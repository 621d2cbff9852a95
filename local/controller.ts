/**
 * The controller running locally as it runs on Google Cloud: every entry point in its own
 * functions-framework process, fed by push subscriptions on the Pub/Sub emulator (retry policy
 * and dead-letter topic like the Eventarc triggers), Cloud Workflows replaced by the local runner
 * executing the same YAML, and Cloud Scheduler by a ticker.
 */
import { PubSub } from '@google-cloud/pubsub';
import { ENTRY_POINTS, type EntryPoint } from '../functions/manifest.ts';
import type { LocalCloud } from './cloud.ts';
import { type RunningFunction, startFunction } from './functions/host.ts';
import { GOOGLE_ISSUER } from './iam/signer.ts';
import { iamOidcMinter, LOCAL_POLICY, workflowsServiceAccount } from './identities.ts';
import { freePort } from './net.ts';
import { createTopology } from './pubsub-topology.ts';
import { startTicker, type Ticker } from './scheduler/ticker.ts';
import { startWorkflowsServer, type WorkflowsServer } from './workflows/server.ts';

export const WORKFLOW_ID = 'canary-rollout';
export const WORKFLOW_LOCATION = 'us-central1';

export interface ControllerOptions {
  readonly project: string;
  readonly firestoreHost: string;
  readonly pubsubHost: string;
  readonly networkServicesUrl: string;
  /** host:port of the local Monitoring API. */
  readonly monitoringEndpoint: string;
  /**
   * Root URL of the local IAM Credentials API, the account hooks are called as, and where its
   * signing keys are (the functions verify callers' ID tokens against them).
   */
  readonly iam: { readonly url: string; readonly hooksServiceAccount: string; readonly jwksUrl: string };
  /** Root URL of the local Cloud Identity Groups API (`group:` principals); unset: none. */
  readonly cloudIdentityUrl?: string;
  readonly allowedRoutes: readonly string[];
  /** Request durations and controller timings are divided by this. */
  readonly timeScale: number;
  /** How often the local scheduler publishes a tick (default: every minute, scaled; 0: no ticker). */
  readonly tickEveryMs?: number;
  /** Extra or overriding environment variables for every function. */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra or overriding environment variables for one function (by entry point name). */
  readonly envFor?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Each line a function prints (its structured logs). */
  readonly onLog?: (functionName: string, line: string) => void;
}

export interface LocalController {
  readonly functions: ReadonlyMap<string, RunningFunction>;
  readonly workflows: WorkflowsServer;
  /** The environment every function runs with. */
  readonly env: Readonly<Record<string, string>>;
  readonly pubsub: PubSub;
  readonly eventsSubscription: string;
  readonly deadLetterSubscription: string;
  /** Publishes JSON to one of the controller's topics; returns the message id. */
  publish(topic: string, data: unknown): Promise<string>;
  /** Starts a function again on the same port (after `kill()`), as Cloud Run starts a new instance. */
  restart(name: string): Promise<RunningFunction>;
  stop(): Promise<void>;
}

function entry(name: string): EntryPoint {
  const found = ENTRY_POINTS.find((e) => e.name === name);
  if (!found) throw new Error(`no entry point ${name}`);
  return found;
}

export async function startController(options: ControllerOptions): Promise<LocalController> {
  const scale = options.timeScale;
  const seconds = (s: number) => String(s / scale);
  const workflows = await startWorkflowsServer({
    workflows: { [WORKFLOW_ID]: new URL('../workflows/canary-rollout.yaml', import.meta.url).pathname },
    // Scaled runs wait fractions of a second: the workflow sleeps them only below a 1 s minimum.
    env: { MIN_WAIT_SECONDS: '0.01' },
    fractionalSleeps: true,
    // Executions call advanceRollout with an ID token of their service account, as in Google Cloud.
    oidcMinter: iamOidcMinter(options.iam.url),
  });
  const ports = new Map<string, number>();
  for (const e of ENTRY_POINTS) ports.set(e.name, await freePort());
  const env: Record<string, string> = {
    GOOGLE_CLOUD_PROJECT: options.project,
    METADATA_SERVER_DETECTION: 'none',
    FIRESTORE_EMULATOR_HOST: options.firestoreHost,
    PUBSUB_EMULATOR_HOST: options.pubsubHost,
    NETWORK_SERVICES_ENDPOINT: options.networkServicesUrl,
    MONITORING_ENDPOINT: options.monitoringEndpoint,
    // Hooks may point at local http services; their tokens come from the local IAM stand-in.
    HOOK_URL_POLICY: 'local',
    IAM_CREDENTIALS_ENDPOINT: options.iam.url,
    HOOKS_SERVICE_ACCOUNT: options.iam.hooksServiceAccount,
    WORKFLOWS_ENDPOINT: workflows.url,
    ...(options.cloudIdentityUrl ? { CLOUD_IDENTITY_ENDPOINT: options.cloudIdentityUrl } : {}),
    WORKFLOW_NAME: `projects/${options.project}/locations/${WORKFLOW_LOCATION}/workflows/${WORKFLOW_ID}`,
    ADVANCE_URL: `http://127.0.0.1:${ports.get('advanceRollout')}/`,
    ALLOWED_ROUTES: options.allowedRoutes.join(','),
    TIME_SCALE: String(scale),
    MIN_WAIT_SECONDS: '0.05',
    ROUTE_LEASE_SECONDS: seconds(120),
    ROUTE_RETRY_BASE_SECONDS: seconds(5),
    ROUTE_RETRY_MAX_SECONDS: seconds(300),
    ROUTE_POLL_INITIAL_MS: '10',
    ROUTE_POLL_MAX_MS: '200',
    PAUSED_POLL_SECONDS: seconds(60),
    WORKFLOW_GRACE_SECONDS: seconds(120),
    START_GRACE_SECONDS: seconds(30),
    // Not scaled: a loaded machine's emulator must not pass for an outage.
    STORE_DEADLINE_SECONDS: '1',
    ...identityEnv(options),
    ...options.env,
  };
  const functions = new Map<string, RunningFunction>();
  const launch = async (name: string): Promise<RunningFunction> => {
    const port = ports.get(name);
    const fn = await startFunction(
      entry(name),
      { ID_TOKEN_AUDIENCES: `http://127.0.0.1:${port}`, ...env, ...options.envFor?.[name] },
      {
        ...(port === undefined ? {} : { port }),
        ...(options.onLog ? { onLine: (line: string) => options.onLog?.(name, line) } : {}),
      },
    );
    functions.set(name, fn);
    return fn;
  };
  let ticker: Ticker | null = null;
  const pubsub = new PubSub({ projectId: options.project, apiEndpoint: options.pubsubHost });
  const stop = async (): Promise<void> => {
    ticker?.stop();
    await Promise.allSettled([...functions.values()].map((f) => f.stop()));
    await workflows.close();
    await pubsub.close();
  };
  try {
    await Promise.all(ENTRY_POINTS.map((e) => launch(e.name)));
    const pushTargets: Record<string, string> = {};
    for (const e of ENTRY_POINTS) {
      if (e.trigger.kind === 'topic') pushTargets[e.trigger.topic] = `http://127.0.0.1:${ports.get(e.name)}`;
    }
    const topology = await createTopology({
      pubsubHost: options.pubsubHost,
      project: options.project,
      pushTargets,
    });
    const tickEveryMs = options.tickEveryMs ?? 60_000 / scale;
    if (tickEveryMs > 0) ticker = startTicker(pubsub, tickEveryMs);
    return {
      functions,
      workflows,
      env,
      pubsub,
      eventsSubscription: topology.eventsSubscription,
      deadLetterSubscription: topology.deadLetterSubscription,
      publish: (topic, data) => pubsub.topic(topic).publishMessage({ json: data }),
      restart: launch,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * How the functions identify HTTP callers locally (docs/security.md#identity): they verify ID
 * tokens against the local IAM stand-in's keys, each function accepting tokens for its own URL
 * only (ID_TOKEN_AUDIENCES, set per function); advanceRollout accepts only the workflows' account;
 * the local test identities are authorized by LOCAL_POLICY.
 */
function identityEnv(options: ControllerOptions): Record<string, string> {
  return {
    ID_TOKEN_CHECK: 'verify',
    ID_TOKEN_JWKS_URL: options.iam.jwksUrl,
    ID_TOKEN_ISSUERS: GOOGLE_ISSUER,
    DRIVER_PRINCIPALS: workflowsServiceAccount(options.project),
    AUTHZ_POLICY: JSON.stringify(LOCAL_POLICY),
  };
}

/**
 * The other route kinds of the local cloud's project: any GRPCRoute, TCPRoute or TLSRoute there
 * may be managed (each kind allowed on its own, as ALLOWED_ROUTES says in production).
 */
export function otherKindsOf(project: string): string[] {
  return ['grpcRoutes', 'tcpRoutes', 'tlsRoutes'].map(
    (kind) => `projects/${project}/locations/global/${kind}/*`,
  );
}

/** The controller on a running local cloud, allowed to manage every demo route and every route of the other kinds. */
export function startControllerOn(
  cloud: LocalCloud,
  extra: Partial<ControllerOptions> = {},
): Promise<LocalController> {
  return startController({
    project: cloud.project,
    firestoreHost: cloud.firestoreHost,
    pubsubHost: cloud.pubsubHost,
    networkServicesUrl: cloud.networkServices.url,
    monitoringEndpoint: cloud.monitoring.address,
    iam: { url: cloud.iam.url, hooksServiceAccount: cloud.hooksServiceAccount, jwksUrl: cloud.iam.jwksUrl },
    cloudIdentityUrl: cloud.cloudIdentity.url,
    allowedRoutes: [...cloud.apps.map((a) => a.route), ...otherKindsOf(cloud.project)],
    timeScale: cloud.timeScale,
    ...extra,
  });
}

/**
 * The configuration the controller on this local cloud runs with, as far as rolloutctl needs it
 * (`rolloutctl plan --config .local/controller.env`): project, endpoints, allowlist, time scale.
 */
export function controllerEnvFor(cloud: LocalCloud): Record<string, string> {
  return {
    GOOGLE_CLOUD_PROJECT: cloud.project,
    FIRESTORE_EMULATOR_HOST: cloud.firestoreHost,
    PUBSUB_EMULATOR_HOST: cloud.pubsubHost,
    NETWORK_SERVICES_ENDPOINT: cloud.networkServices.url,
    MONITORING_ENDPOINT: cloud.monitoring.address,
    IAM_CREDENTIALS_ENDPOINT: cloud.iam.url,
    HOOKS_SERVICE_ACCOUNT: cloud.hooksServiceAccount,
    CLOUD_IDENTITY_ENDPOINT: cloud.cloudIdentity.url,
    HOOK_URL_POLICY: 'local',
    ALLOWED_ROUTES: [...cloud.apps.map((a) => a.route), ...otherKindsOf(cloud.project)].join(','),
    TIME_SCALE: String(cloud.timeScale),
  };
}
