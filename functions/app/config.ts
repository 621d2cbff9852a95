/**
 * Controller configuration: read from the environment once at start-up, validated into a typed
 * object. A bad value stops the function from starting with every problem listed.
 */
import { z } from 'zod';
import { type AuthzPolicy, defaultPolicy, policySchema } from '../core/authz.ts';
import { type HookUrlPolicy, PRODUCTION_HOOK_POLICY } from '../core/hooks.ts';
import { type MetricSource, metricSourceSchema } from '../core/request.ts';
import { lastSegment, type ProjectNames } from '../core/resource-name.ts';
import { validate } from '../core/validation.ts';
import { InvalidInputError } from '../errors.ts';
import { TOPICS } from '../manifest.ts';

const seconds = (fallback: number, min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number of seconds' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` })
    .default(fallback);

const topicId = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z][-\w.~+%]{2,254}$/, { error: 'must be a Pub/Sub topic id' })
    .default(fallback);

const routePattern = z
  .string()
  .regex(
    /^projects\/[^/\s]+\/locations\/[^/\s]+\/(httpRoutes|grpcRoutes|tcpRoutes|tlsRoutes)\/[-a-z0-9]*\*?$/,
    {
      error:
        'each entry must be a full route name (httpRoutes, grpcRoutes, tcpRoutes or tlsRoutes), optionally ending in * (e.g. projects/p/locations/global/httpRoutes/shop-*)',
    },
  );

/** A comma-separated list (empty when unset), each entry checked by `item`. */
const list = (item: z.ZodType<string, string>) =>
  z
    .string()
    .default('')
    .transform((text) =>
      text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
    .pipe(z.array(item));

/** Google's ID token signing keys and issuers (https://developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken). */
export const GOOGLE_JWKS_URL = 'https://www.googleapis.com/oauth2/v3/certs';
export const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'] as const;

const envSchema = z.object({
  GOOGLE_CLOUD_PROJECT: z.string({ error: 'is required: the project the controller runs in' }).min(1),
  PROJECT_NUMBER: z
    .string()
    .regex(/^\d{1,20}$/, { error: 'must be the project number of GOOGLE_CLOUD_PROJECT (digits only)' })
    .optional(),
  ALLOWED_ROUTES: z
    .string({
      error:
        'is required: comma-separated route names (or prefixes ending in *) this controller may manage; each route kind is allowed on its own (httpRoutes/…, grpcRoutes/…)',
    })
    .transform((text) =>
      text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
    .pipe(z.array(routePattern).min(1, { error: 'must name at least one route' })),
  WORKFLOW_NAME: z
    .string()
    .regex(/^projects\/[^/]+\/locations\/[^/]+\/workflows\/[-\w]+$/, {
      error: 'must be a full workflow name: projects/P/locations/L/workflows/W',
    })
    .optional(),
  ADVANCE_URL: z.url({ error: 'must be the URL of the advanceRollout function' }).optional(),
  EVENTS_TOPIC: topicId('rollout-events'),
  ADVANCE_TOPIC: topicId('rollout-advance'),
  FIRESTORE_DATABASE: z.string().min(1).default('(default)'),
  DEFAULT_METRICS: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text.trim() === '') return {};
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON: {"<backend service name>": {"preset": …}}' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string(), metricSourceSchema)),
  METRICS_PRESET: z.enum(['cloudRun', 'internalLb']).default('cloudRun'),
  ROUTE_LEASE_SECONDS: seconds(120, 1, 3600),
  ROUTE_RETRY_BASE_SECONDS: seconds(5, 0.01, 600),
  ROUTE_RETRY_MAX_SECONDS: seconds(300, 0.01, 3600),
  ROUTE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
  ROUTE_POLL_INITIAL_MS: z.coerce.number().int().min(1).max(60_000).default(500),
  ROUTE_POLL_MAX_MS: z.coerce.number().int().min(1).max(60_000).default(5_000),
  ROUTE_OPERATION_TIMEOUT_SECONDS: seconds(120, 1, 1800),
  PAUSED_POLL_SECONDS: seconds(60, 0.05, 3600),
  MIN_WAIT_SECONDS: seconds(1, 0.01, 60),
  MAX_WAIT_SECONDS: seconds(3600, 1, 86_400),
  TICK_BATCH: z.coerce.number().int().min(1).max(5000).default(1000),
  WORKFLOW_GRACE_SECONDS: seconds(120, 0, 86_400),
  OUTBOX_GRACE_SECONDS: seconds(10, 0, 3600),
  START_GRACE_SECONDS: seconds(30, 0, 3600),
  STORE_DEADLINE_SECONDS: seconds(2, 0.05, 60),
  TIME_SCALE: z.coerce.number().min(1).max(1000).default(1),
  NETWORK_SERVICES_ENDPOINT: z.url().optional(),
  MONITORING_ENDPOINT: z
    .string()
    .regex(/^[^:\s]+:\d+$/, { error: 'must be host:port of a local Monitoring API' })
    .optional(),
  WORKFLOWS_ENDPOINT: z.url().optional(),
  HOOK_URL_POLICY: z
    .enum(['production', 'local'], { error: 'must be "production" or "local"' })
    .default('production'),
  HOOKS_SERVICE_ACCOUNT: z.email({ error: 'must be a service account email' }).optional(),
  IAM_CREDENTIALS_ENDPOINT: z.url().optional(),
  CLOUD_IDENTITY_ENDPOINT: z.url().optional(),
  STALLED_AFTER_SECONDS: seconds(900, 1, 86_400),
  FIRESTORE_EMULATOR_HOST: z.string().optional(),
  AUTHZ_POLICY: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text.trim() === '') return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: 'must be JSON: {"grants": [{"principals": […], "routes": […], "commands": […]}]}',
        });
        return z.NEVER;
      }
    })
    .pipe(policySchema.optional()),
  ID_TOKEN_CHECK: z
    .enum(['verify', 'cloudRun'], { error: 'must be "verify" or "cloudRun"' })
    .default('verify'),
  ID_TOKEN_AUDIENCES: list(z.url({ error: "each entry must be the URL a caller's ID token is for" })),
  ID_TOKEN_JWKS_URL: z.url().default(GOOGLE_JWKS_URL),
  ID_TOKEN_ISSUERS: list(z.string().min(1)).transform((l) => (l.length === 0 ? [...GOOGLE_ISSUERS] : l)),
  DRIVER_PRINCIPALS: list(z.email({ error: 'each entry must be a service account email' })),
  ALLOWED_BACKEND_PROJECTS: list(
    z.string().regex(/^[a-z0-9][-a-z0-9.:]*\*?$|^\d+$/, {
      error: 'each entry must be a project id or number, optionally ending in * (a prefix)',
    }),
  ),
  KNOWN_ALERT_POLICIES: list(z.string().min(1).max(512)),
  ALERT_POLICIES_BY_LABEL: z
    .enum(['true', 'false'], { error: 'must be "true" or "false"' })
    .default('true')
    .transform((v) => v === 'true'),
});

export interface Config {
  readonly project: string;
  /** GOOGLE_CLOUD_PROJECT's number, when set: resource names may spell the project either way. */
  readonly projectNumber: string | null;
  readonly allowedRoutes: readonly string[];
  readonly workflow: { readonly name: string; readonly advanceUrl: string } | null;
  readonly eventsTopic: string;
  /** Where the tick publishes one message per due rollout, for advanceDue. */
  readonly advanceTopic: string;
  readonly firestoreDatabase: string;
  readonly defaultMetrics: Readonly<Record<string, MetricSource>>;
  readonly metricsPreset: 'cloudRun' | 'internalLb';
  readonly route: {
    readonly leaseMs: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    readonly maxAttempts: number;
    readonly pollInitialMs: number;
    readonly pollMaxMs: number;
    readonly operationTimeoutMs: number;
  };
  readonly pausedPollMs: number;
  readonly minWaitMs: number;
  readonly maxWaitMs: number;
  /**
   * `batch`: rollouts per page of the tick's queries (it reads every page). `outboxGraceMs`: the
   * tick re-sends outbox events older than this (their own publisher died or failed).
   */
  readonly tick: { readonly batch: number; readonly workflowGraceMs: number; readonly outboxGraceMs: number };
  readonly startGraceMs: number;
  /**
   * How long an alert or an abort waits for Firestore before taking the canary out of the route
   * without it (Firestore's client itself retries an unreachable server for about 40 s).
   */
  readonly storeDeadlineMs: number;
  /** Request durations are divided by this; only for local runs. */
  readonly timeScale: number;
  readonly hooks: {
    /** Where hook URLs may point (local: plain HTTP and private hosts too, for the local cloud). */
    readonly urlPolicy: HookUrlPolicy;
    /**
     * The identity whose OIDC ID tokens hooks receive (the controller needs only
     * roles/iam.serviceAccountOpenIdTokenCreator on it); null: the function's own identity.
     */
    readonly serviceAccount: string | null;
  };
  /** Default for a request's stalledAfter: how long work may stay overdue before rollout.stalled. */
  readonly stalledAfterMs: number;
  /** Who may run which command on which routes (docs/security.md#authorization). */
  readonly authz: AuthzPolicy;
  /** How HTTP callers are identified (docs/security.md#identity). */
  readonly identity: {
    /**
     * `verify`: the function checks the ID token's signature, issuer, audience and expiry itself;
     * `cloudRun`: it reads the claims of the token Cloud Run's invoker check already verified.
     */
    readonly check: 'verify' | 'cloudRun';
    /** The audiences an ID token may carry (the functions' URLs); empty: no HTTP caller is accepted under `verify`. */
    readonly audiences: readonly string[];
    readonly jwksUrl: string;
    readonly issuers: readonly string[];
    /** Service accounts that may call advanceRollout (the workflow's); empty: any verified caller Cloud Run admitted. */
    readonly drivers: readonly string[];
  };
  /** Projects (ids, numbers or prefixes ending in *) backends may live in besides the controller's own. */
  readonly allowedBackendProjects: readonly string[];
  readonly alerts: {
    /** Alert policies (display names or projects/P/alertPolicies/ID) whose incidents are accepted. */
    readonly knownPolicies: readonly string[];
    /** Also accept a policy found in the project's Monitoring with rollout_* user labels. */
    readonly acceptLabelled: boolean;
  };
  /** Local stand-ins; unset in production. */
  readonly endpoints: {
    readonly networkServices: string | null;
    readonly monitoring: string | null;
    readonly workflows: string | null;
    readonly firestoreEmulator: string | null;
    readonly iamCredentials: string | null;
    /** The Cloud Identity Groups API stand-in (`group:` principals). */
    readonly cloudIdentity: string | null;
  };
}

export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const parsed = validate(envSchema, env);
  if (!parsed.ok) {
    throw InvalidInputError.fromIssues('invalid controller configuration', parsed.issues, {
      code: 'INVALID_CONFIG',
      hint: 'fix the environment variables of the function (see docs/configuration.md)',
    });
  }
  const e = parsed.value;
  checkCombinations(e);
  checkGroupsEndpoint(e);
  return {
    project: e.GOOGLE_CLOUD_PROJECT,
    projectNumber: e.PROJECT_NUMBER ?? null,
    allowedRoutes: e.ALLOWED_ROUTES,
    workflow: e.WORKFLOW_NAME && e.ADVANCE_URL ? { name: e.WORKFLOW_NAME, advanceUrl: e.ADVANCE_URL } : null,
    eventsTopic: e.EVENTS_TOPIC,
    advanceTopic: e.ADVANCE_TOPIC,
    firestoreDatabase: e.FIRESTORE_DATABASE,
    defaultMetrics: e.DEFAULT_METRICS,
    metricsPreset: e.METRICS_PRESET,
    route: {
      leaseMs: e.ROUTE_LEASE_SECONDS * 1000,
      retryBaseMs: e.ROUTE_RETRY_BASE_SECONDS * 1000,
      retryMaxMs: e.ROUTE_RETRY_MAX_SECONDS * 1000,
      maxAttempts: e.ROUTE_MAX_ATTEMPTS,
      pollInitialMs: e.ROUTE_POLL_INITIAL_MS,
      pollMaxMs: e.ROUTE_POLL_MAX_MS,
      operationTimeoutMs: e.ROUTE_OPERATION_TIMEOUT_SECONDS * 1000,
    },
    pausedPollMs: e.PAUSED_POLL_SECONDS * 1000,
    minWaitMs: e.MIN_WAIT_SECONDS * 1000,
    maxWaitMs: e.MAX_WAIT_SECONDS * 1000,
    tick: {
      batch: e.TICK_BATCH,
      workflowGraceMs: e.WORKFLOW_GRACE_SECONDS * 1000,
      outboxGraceMs: e.OUTBOX_GRACE_SECONDS * 1000,
    },
    startGraceMs: e.START_GRACE_SECONDS * 1000,
    storeDeadlineMs: e.STORE_DEADLINE_SECONDS * 1000,
    timeScale: e.TIME_SCALE,
    hooks: {
      urlPolicy:
        e.HOOK_URL_POLICY === 'local' ? { allowHttp: true, allowPrivate: true } : PRODUCTION_HOOK_POLICY,
      serviceAccount: e.HOOKS_SERVICE_ACCOUNT ?? null,
    },
    stalledAfterMs: e.STALLED_AFTER_SECONDS * 1000,
    ...securityConfig(e),
    endpoints: {
      networkServices: e.NETWORK_SERVICES_ENDPOINT ?? null,
      monitoring: e.MONITORING_ENDPOINT ?? null,
      workflows: e.WORKFLOWS_ENDPOINT ?? null,
      firestoreEmulator: e.FIRESTORE_EMULATOR_HOST ?? null,
      iamCredentials: e.IAM_CREDENTIALS_ENDPOINT ?? null,
      cloudIdentity: e.CLOUD_IDENTITY_ENDPOINT ?? null,
    },
  };
}

type Env = z.output<typeof envSchema>;

/** Who may do what, how callers are identified, and what the controller trusts (docs/security.md). */
function securityConfig(e: Env): Pick<Config, 'authz' | 'identity' | 'allowedBackendProjects' | 'alerts'> {
  return {
    authz: e.AUTHZ_POLICY ?? defaultPolicy({ requests: TOPICS.requests, control: TOPICS.control }),
    identity: {
      check: e.ID_TOKEN_CHECK,
      audiences: e.ID_TOKEN_AUDIENCES,
      jwksUrl: e.ID_TOKEN_JWKS_URL,
      issuers: e.ID_TOKEN_ISSUERS,
      drivers: e.DRIVER_PRINCIPALS,
    },
    allowedBackendProjects: e.ALLOWED_BACKEND_PROJECTS,
    alerts: { knownPolicies: e.KNOWN_ALERT_POLICIES, acceptLabelled: e.ALERT_POLICIES_BY_LABEL },
  };
}

/** The Cloud Identity stand-in is for the local cloud only (docs/security.md#groups). */
function checkGroupsEndpoint(e: Env): void {
  if (e.CLOUD_IDENTITY_ENDPOINT !== undefined && e.NETWORK_SERVICES_ENDPOINT === undefined) {
    throw new InvalidInputError(
      'invalid controller configuration: CLOUD_IDENTITY_ENDPOINT is only for the local cloud',
      [],
      {
        code: 'INVALID_CONFIG',
        hint: 'unset it in production: group memberships come from the Cloud Identity Groups API',
      },
    );
  }
}

/** Rules across variables that the per-variable schema cannot state. */
function checkCombinations(e: Env): void {
  if ((e.WORKFLOW_NAME === undefined) !== (e.ADVANCE_URL === undefined)) {
    throw new InvalidInputError(
      'invalid controller configuration: set WORKFLOW_NAME and ADVANCE_URL together',
      [],
      {
        code: 'INVALID_CONFIG',
        hint: 'both are needed to start workflow executions; leave both unset to allow only scheduler-driven rollouts',
      },
    );
  }
  if (e.HOOK_URL_POLICY === 'local' && e.NETWORK_SERVICES_ENDPOINT === undefined) {
    throw new InvalidInputError(
      'invalid controller configuration: HOOK_URL_POLICY=local is only for the local cloud',
      [],
      {
        code: 'INVALID_CONFIG',
        hint: 'unset HOOK_URL_POLICY in production: hooks must be HTTPS on public hosts',
      },
    );
  }
  const ownIssuers = e.ID_TOKEN_ISSUERS.some((i) => !(GOOGLE_ISSUERS as readonly string[]).includes(i));
  if ((e.ID_TOKEN_JWKS_URL !== GOOGLE_JWKS_URL || ownIssuers) && e.NETWORK_SERVICES_ENDPOINT === undefined) {
    throw new InvalidInputError(
      'invalid controller configuration: ID_TOKEN_JWKS_URL and ID_TOKEN_ISSUERS are only for the local cloud',
      [],
      {
        code: 'INVALID_CONFIG',
        hint: 'unset them in production: only Google-signed ID tokens identify callers there',
      },
    );
  }
  if (e.TIME_SCALE !== 1 && e.NETWORK_SERVICES_ENDPOINT === undefined) {
    throw new InvalidInputError(
      'invalid controller configuration: TIME_SCALE is only for the local cloud',
      [],
      {
        code: 'INVALID_CONFIG',
        hint: 'unset TIME_SCALE in production',
      },
    );
  }
}

/** The project's id and number, for comparing resource names; null without PROJECT_NUMBER. */
export function projectNames(config: Config): ProjectNames | null {
  return config.projectNumber === null ? null : { id: config.project, number: config.projectNumber };
}

/** Whether the controller may manage this route (exact name, or a pattern ending in `*`). */
export function routeAllowed(config: Config, route: string): boolean {
  return config.allowedRoutes.some((pattern) =>
    pattern.endsWith('*') ? route.startsWith(pattern.slice(0, -1)) : route === pattern,
  );
}

/** Where a backend's metrics come from when the request does not say: configured, else the preset named like the backend. */
export function defaultMetricSource(config: Config, backend: string): MetricSource {
  const configured = config.defaultMetrics[backend] ?? config.defaultMetrics[lastSegment(backend)];
  if (configured) return configured;
  return config.metricsPreset === 'cloudRun'
    ? { preset: 'cloudRun', service: lastSegment(backend) }
    : { preset: 'internalLb', backend: lastSegment(backend) };
}
