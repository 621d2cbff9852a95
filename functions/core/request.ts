/**
 * The rollout request: what a team publishes to `rollout-requests` to start a canary.
 * One schema is the source of the TypeScript types, the validation and the published JSON Schema.
 */
import { z } from 'zod';
import { parseDurationSeconds } from './duration.ts';
import { DEFAULT_SHAPE, type InputLimits, readJson, shapeIssue } from './input-shape.ts';
import { LOCATION_ID, type Parsed, PROJECT_ID, RESOURCE_ID, ROLLOUT_ID, validate } from './validation.ts';

export const MAX_REQUEST_BYTES = 32 * 1024;
/** Size and shape a request must fit before its schema looks at it (core/input-shape.ts). */
export const REQUEST_LIMITS: InputLimits = { maxBytes: MAX_REQUEST_BYTES, ...DEFAULT_SHAPE };
export const MAX_STEPS = 30;
const MAX_TOTAL_HOLD_SECONDS = 7 * 24 * 3600;

/** The Service Routing route kinds (collections of the Network Services API) a rollout can shift. */
export const ROUTE_KINDS = ['httpRoutes', 'grpcRoutes', 'tcpRoutes', 'tlsRoutes'] as const;
export const ROUTE_NAME = new RegExp(
  `^projects/${PROJECT_ID}/locations/${LOCATION_ID}/(${ROUTE_KINDS.join('|')})/${RESOURCE_ID}$`,
);
const ROUTE_NAME_RULE =
  'must be a full route name: projects/P/locations/L/{httpRoutes|grpcRoutes|tcpRoutes|tlsRoutes}/NAME';
/** The most routes one release may move together. */
export const MAX_TARGETS = 8;
export const BACKEND_NAME = new RegExp(
  `^projects/${PROJECT_ID}/locations/${LOCATION_ID}/backendServices/${RESOURCE_ID}$`,
);

function duration(minSeconds: number, maxSeconds: number) {
  return z
    .string({ error: 'must be a duration string such as "30s", "5m" or "2h"' })
    .refine((text) => parseDurationSeconds(text) !== undefined, {
      error: 'must be a whole number followed by s, m or h (e.g. "30s", "5m", "2h")',
    })
    .refine(
      (text) => {
        const seconds = parseDurationSeconds(text) ?? -1;
        return seconds < 0 || (seconds >= minSeconds && seconds <= maxSeconds);
      },
      { error: `must be between ${minSeconds}s and ${maxSeconds}s` },
    )
    .describe(`Duration: a whole number followed by s, m or h; between ${minSeconds}s and ${maxSeconds}s.`);
}

function int(min: number, max: number) {
  return z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });
}

const labelValue = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(200, { error: 'must be at most 200 characters' });

const cloudRunSource = z
  .strictObject({
    preset: z.literal('cloudRun'),
    service: z
      .string({ error: 'must be the Cloud Run service name' })
      .regex(/^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$/, { error: 'must be a Cloud Run service name' }),
    location: z
      .string()
      .regex(/^[a-z]+-[a-z]+\d+$/, { error: 'must be a Cloud Run region such as europe-west1' })
      .optional(),
    project: z
      .string()
      .regex(new RegExp(`^${PROJECT_ID}$`), { error: 'must be a project id' })
      .optional(),
  })
  .describe(
    "Cloud Run request metrics of the backend's own service: the fit for Cloud Run services joined to a mesh.",
  );

const internalLbSource = z
  .strictObject({
    preset: z.literal('internalLb'),
    backend: z
      .string({ error: 'must be the backend service name as Monitoring labels it (backend_target_name)' })
      .regex(new RegExp(`^${RESOURCE_ID}$`), {
        error: 'must be a backend service name as Monitoring labels it (backend_target_name)',
      })
      .describe(
        'Backend service name as Monitoring labels it: resource.labels.backend_target_name of internal_http_lb_rule.',
      ),
    project: z
      .string()
      .regex(new RegExp(`^${PROJECT_ID}$`), { error: 'must be a project id' })
      .optional(),
  })
  .describe(
    'Internal Application Load Balancer metrics: only for routes served through Google-managed internal ALB proxies; refused on a route attached to a Mesh, whose clients balance the traffic (use cloudRun or filter there).',
  );

const filterText = z
  .string({ error: 'must be a Cloud Monitoring filter' })
  .min(1, { error: 'must not be empty' })
  .max(2048, { error: 'must be at most 2048 characters' })
  .refine((f) => (f.match(/metric\.type\s*=/g) ?? []).length === 1, {
    error: 'must contain exactly one metric.type = "…" clause',
  });

const filterSource = z
  .strictObject({
    preset: z.literal('filter'),
    requests: filterText.describe(
      'Filter selecting every request of the backend: a DELTA count (e.g. a log-based metric; windows are summed with ALIGN_SUM, which Monitoring refuses on CUMULATIVE metrics).',
    ),
    errors: filterText.describe('Filter selecting the failed (5xx) requests of the backend.'),
    latency: filterText
      .describe('Filter selecting a latency DISTRIBUTION metric in milliseconds.')
      .optional(),
  })
  .describe('Any other metrics, by Monitoring filter (e.g. Istio request metrics).');

export const metricSourceSchema = z.discriminatedUnion(
  'preset',
  [cloudRunSource, internalLbSource, filterSource],
  {
    error: 'preset must be one of "cloudRun", "internalLb", "filter"',
  },
);

const routeName = z.string({ error: 'must be a string' }).regex(ROUTE_NAME, { error: ROUTE_NAME_RULE });
const backendName = z.string({ error: 'must be a string' }).regex(BACKEND_NAME, {
  error: 'must be a full backend service name: projects/P/locations/L/backendServices/NAME',
});
const ruleIndex = int(0, 99).describe(
  'Index of the route rule to shift when several route to stable or canary; default: the one rule that does. Afterwards the rule is found by what it routes.',
);

const target = z
  .strictObject({
    route: routeName,
    rule: ruleIndex.optional(),
    stable: backendName.optional().describe("This route's stable backend; default: the request's `stable`."),
    canary: backendName.optional().describe("This route's canary backend; default: the request's `canary`."),
  })
  .describe(
    'One route of the release: an HTTPRoute, GRPCRoute, TCPRoute or TLSRoute, on a Mesh or a Gateway.',
  );

const weightStep = z.strictObject({
  weight: int(1, 100).describe('Canary share of the route in percent.'),
  hold: duration(0, 24 * 3600).describe('How long the step lasts once its weights are live and healthy.'),
});

const gateStep = z.strictObject({
  gate: z.literal('manual', { error: 'gate must be "manual"' }),
  note: labelValue.optional().describe('Shown to the operator who must resume or promote the rollout.'),
});

const step = z.union([weightStep, gateStep], {
  error: 'each step is either {"weight": 1-100, "hold": "5m"} or {"gate": "manual"}',
});

const sequential = z.strictObject({
  enabled: z.boolean({ error: 'must be true or false' }).default(true),
  alpha: z
    .number({ error: 'must be a number' })
    .min(0.0001, { error: 'must be at least 0.0001' })
    .max(0.2, { error: 'must be at most 0.2' })
    .default(0.01)
    .describe('Chance of rolling back a canary that is no worse than stable; 0.01 by default.'),
  errors: z
    .enum(['clustered', 'independent'], { error: 'must be "clustered" or "independent"' })
    .default('clustered')
    .describe(
      'How 5xx may arrive: "clustered" (default) stays valid when errors come in bursts (retry storms, one bad client) at the cost of needing a few minutes with errors; "independent" decides faster but assumes every error is an independent event.',
    ),
  latency: z
    .boolean({ error: 'must be true or false' })
    .default(true)
    .describe(
      "Also compare the canary's latency with stable's (requests slower than stable's p99), within the same alpha; needs latency from both metric sources.",
    ),
});

const analysis = z.strictObject({
  interval: duration(60, 3600)
    .refine((text) => ((s) => s < 60 || s % 60 === 0)(parseDurationSeconds(text) ?? 0), {
      error: 'must be a whole number of minutes: windows are made of one-minute Monitoring points',
    })
    .default('60s')
    .describe(
      'Length of each analysis window, whole minutes (Cloud Run writes one point per minute; windows start on minute boundaries).',
    ),
  ingestionDelay: duration(0, 900)
    .optional()
    .describe(
      'How far behind now each window ends; default by metric preset (Cloud Run 180s, load balancer 90s).',
    ),
  settle: duration(0, 900)
    .default('30s')
    .describe(
      'Time allowed for a confirmed weight change to reach the mesh clients; the first window starts on the next minute boundary after it, and windows whose metrics still show the previous split are not judged.',
    ),
  maxErrorRatio: z
    .number({ error: 'must be a number' })
    .min(0, { error: 'must be at least 0' })
    .max(1, { error: 'must be at most 1' })
    .default(0.05)
    .describe('Largest acceptable 5xx share of canary requests in one window.'),
  blindToGrpcErrors: z
    .boolean({ error: 'must be true or false' })
    .default(false)
    .describe(
      'Accept judging a GRPCRoute target on request metrics that record the HTTP status of a gRPC call (cloudRun, internalLb) and so count gRPC errors as successes; without it such a request is refused (use a filter source on gRPC status metrics, docs/route-kinds.md).',
    ),
  maxP99LatencyMs: z
    .number({ error: 'must be a number' })
    .positive({ error: 'must be greater than 0' })
    .max(600_000, { error: 'must be at most 600000' })
    .optional(),
  maxP99LatencyRatio: z
    .number({ error: 'must be a number' })
    .min(1, { error: 'must be at least 1' })
    .max(100, { error: 'must be at most 100' })
    .optional()
    .describe('Canary p99 may be at most this multiple of stable p99.'),
  failureLimit: int(1, 20).default(3).describe('Failed absolute checks before rolling back.'),
  minRequests: int(1, 10_000_000)
    .default(50)
    .describe(
      'Canary requests the absolute checks need; windows with fewer are pooled with the next ones until together they have enough.',
    ),
  maxStepDuration: duration(60, 7 * 24 * 3600)
    .optional()
    .describe(
      'Longest a weight step may wait for enough canary traffic to judge (counted from when its weights are live; never shorter than the hold plus the time its last window takes to become readable); then it pauses with "not enough traffic to judge". No limit by default.',
    ),
  inconclusiveLimit: int(1, 100)
    .default(10)
    .describe('Inconclusive windows in a row before the rollout pauses and notifies.'),
  sequential: sequential.prefault({}),
  metrics: z
    .strictObject({ stable: metricSourceSchema.optional(), canary: metricSourceSchema.optional() })
    .optional()
    .describe('Where to read each backend from; defaults come from the controller configuration.'),
});

/** The most hooks one point may have, and one request in all. */
export const MAX_HOOKS_PER_POINT = 5;
export const MAX_HOOKS = 20;

const hookBase = {
  name: z
    .string({ error: 'must be a string' })
    .regex(/^[a-z][-a-z0-9]{0,39}$/, {
      error: 'must be 1-40 lowercase letters, digits or dashes, starting with a letter',
    })
    .describe('Names the hook in history, events and logs; unique within the request.'),
  url: z
    .url({ error: 'must be an absolute URL' })
    .max(2048, { error: 'must be at most 2048 characters' })
    .describe(
      "Where the hook is called: HTTPS, a public host (no private, loopback or link-local address, no metadata server), no user:password. Called with a Google-signed OIDC ID token whose audience is the URL's origin.",
    ),
  method: z
    .enum(['POST', 'PUT', 'GET'], { error: 'must be "POST", "PUT" or "GET"' })
    .default('POST')
    .describe('POST and PUT send the JSON body described in docs/hooks.md; GET sends it in no body.'),
  timeout: duration(1, 300).default('10s').describe('Longest one attempt may take, answer included.'),
  retries: int(0, 10)
    .default(2)
    .describe(
      'Further attempts after a timeout, an unreachable host, 429 or 5xx, with exponential backoff (1s, 2s, 4s …).',
    ),
};

/** preRollout, postRollout, onRollback: one call (with its retries) per point. */
const plainHook = z.strictObject(hookBase);

/** preStep, confirmPromotion: the rollout holds and calls again until the hook passes or `failAfter`. */
const gatingHook = z.strictObject({
  ...hookBase,
  failAfter: duration(0, 24 * 3600)
    .default('10m')
    .describe('How long the rollout holds and calls the hook again before following onFailure.'),
  onFailure: z
    .enum(['pause', 'rollback'], { error: 'must be "pause" or "rollback"' })
    .default('pause')
    .describe('What happens when the hook has not passed within failAfter.'),
});

/** check: a test of the canary whose result counts as an analysis outcome. */
const checkHook = z.strictObject({
  ...hookBase,
  failureLimit: int(1, 20)
    .default(1)
    .describe(
      'Failed results (per step) before the rollout rolls back; an unreachable hook is inconclusive.',
    ),
});

function hookList<T extends z.ZodType>(hook: T) {
  return z
    .array(hook, { error: 'must be a list of hooks' })
    .max(MAX_HOOKS_PER_POINT, { error: `must contain at most ${MAX_HOOKS_PER_POINT} hooks` })
    .optional();
}

const hooks = z
  .strictObject({
    preRollout: hookList(plainHook).describe(
      'Before any traffic moves; a failure ends the rollout Failed and the route is never touched.',
    ),
    preStep: hookList(gatingHook).describe('Before each weight increase.'),
    check: hookList(checkHook).describe(
      'During analysis of each weight step (e.g. a smoke or load test against the canary).',
    ),
    confirmPromotion: hookList(gatingHook).describe('Before the canary takes 100% of the traffic.'),
    postRollout: hookList(plainHook).describe(
      'After the rollout ends (any terminal phase); a notification: its failure changes nothing.',
    ),
    onRollback: hookList(plainHook).describe(
      'When a rollback starts; a notification, called alongside the rollback, never before it.',
    ),
  })
  .describe("HTTP calls at points of the rollout's life (docs/hooks.md).");

export type HookPoint = keyof z.output<typeof hooks>;

const deadlineAction = (fallback: 'rollback' | 'abort' | 'notify') =>
  z
    .enum(['rollback', 'abort', 'notify'], { error: 'must be "rollback", "abort" or "notify"' })
    .default(fallback);

export const rolloutRequestSchema = z
  .strictObject(
    {
      rolloutId: z
        .string({ error: 'must be a string' })
        .regex(ROLLOUT_ID, {
          error: 'must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit',
        })
        .optional()
        .describe(
          'Idempotency key; publishing the same request twice with one rolloutId starts one rollout.',
        ),
      route: routeName
        .optional()
        .describe('The one route the release moves (or give `targets` for several).'),
      rule: ruleIndex.optional(),
      targets: z
        .array(target, { error: 'must be a list of targets' })
        .min(1, { error: 'must contain at least one target' })
        .max(MAX_TARGETS, { error: `must contain at most ${MAX_TARGETS} targets` })
        .optional()
        .describe(
          `Several routes the release moves as one (instead of \`route\`), up to ${MAX_TARGETS}: every step is live only once every target shows it; a rollback restores every target.`,
        ),
      stable: backendName.describe("The stable backend (every target's, unless a target names its own)."),
      canary: backendName.describe("The canary backend (every target's, unless a target names its own)."),
      steps: z
        .array(step, { error: 'must be a list of steps' })
        .min(1, { error: 'must contain at least one step' })
        .max(MAX_STEPS, { error: `must contain at most ${MAX_STEPS} steps` }),
      analysis: analysis.prefault({}),
      onSuccess: z
        .enum(['promote', 'keepBoth'], { error: 'must be "promote" or "keepBoth"' })
        .default('promote')
        .describe(
          'promote: canary at 100% and the stable destination removed; keepBoth: stay at the last step.',
        ),
      driver: z
        .enum(['workflow', 'scheduler'], { error: 'must be "workflow" or "scheduler"' })
        .default('workflow')
        .describe('workflow: a Cloud Workflows execution runs the stages; scheduler: the minute tick does.'),
      requestedBy: labelValue.optional().describe('Who or what asked for the rollout (CI job URL, person).'),
      hooks: hooks.optional(),
      deadline: z
        .strictObject({
          after: duration(60, 30 * 24 * 3600).describe('Counted from when the rollout was created.'),
          action: deadlineAction('rollback').describe(
            'rollback: canary out as after a failed verdict; abort: canary out, ended Aborted; notify: one rollout.deadline_passed event, the rollout goes on.',
          ),
        })
        .optional()
        .describe('The longest the whole rollout may take.'),
      gateTimeout: z
        .strictObject({
          after: duration(60, 7 * 24 * 3600).describe('Counted from when the rollout paused.'),
          action: deadlineAction('notify'),
        })
        .optional()
        .describe('The longest a manual gate or any pause may wait for a person.'),
      stalledAfter: duration(60, 24 * 3600)
        .optional()
        .describe(
          'How long a driver may make no progress (work overdue: Monitoring unreachable, hooks failing, no driver) before a rollout.stalled event; once per this interval. Default from the controller configuration.',
        ),
      whenRouteBusy: z
        .enum(['reject', 'queue', 'supersede'], { error: 'must be "reject", "queue" or "supersede"' })
        .default('reject')
        .describe(
          'When the route already has an active rollout: reject this request, queue it (it starts when the route is free, in arrival order), or supersede the running rollout.',
        ),
      supersedeWith: z
        .enum(['rollback', 'abort'], { error: 'must be "rollback" or "abort"' })
        .default('rollback')
        .describe('With whenRouteBusy "supersede": how the running rollout is ended.'),
    },
    { error: 'must be a JSON object describing the rollout' },
  )
  .superRefine((request, ctx) => {
    targetIssues(request, ctx);
    let previous = 0;
    let totalHold = 0;
    let weightSteps = 0;
    request.steps.forEach((s, index) => {
      if (!('weight' in s) || typeof s.weight !== 'number') return;
      weightSteps += 1;
      if (weightSteps > 1 && s.weight <= previous) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', index, 'weight'],
          message: `must be greater than the previous weight step (${previous})`,
        });
      }
      previous = Math.max(previous, s.weight);
      totalHold += parseDurationSeconds(s.hold) ?? 0;
    });
    if (weightSteps === 0) {
      ctx.addIssue({ code: 'custom', path: ['steps'], message: 'must contain at least one weight step' });
    }
    hookIssues(request.hooks, ctx);
    if (totalHold > MAX_TOTAL_HOLD_SECONDS) {
      ctx.addIssue({ code: 'custom', path: ['steps'], message: 'hold times must add up to at most 7 days' });
    }
  });

function targetIssues(request: z.output<typeof rolloutRequestSchema>, ctx: z.RefinementCtx): void {
  if ((request.route === undefined) === (request.targets === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: request.route === undefined ? ['route'] : ['targets'],
      message:
        request.route === undefined
          ? 'is required (or `targets`, for several routes)'
          : 'must not be given together with `route`: name every route in `targets`',
    });
  }
  if (request.targets === undefined) {
    if (request.stable === request.canary) {
      ctx.addIssue({ code: 'custom', path: ['canary'], message: 'must differ from stable' });
    }
    return;
  }
  if (request.rule !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['rule'], message: 'give each target its own `rule` instead' });
  }
  const seen = new Set<string>();
  request.targets.forEach((t, index) => {
    if (seen.has(t.route)) {
      ctx.addIssue({
        code: 'custom',
        path: ['targets', index, 'route'],
        message: 'must be unique: another target names the same route',
      });
    }
    seen.add(t.route);
    if ((t.stable ?? request.stable) === (t.canary ?? request.canary)) {
      ctx.addIssue({
        code: 'custom',
        path: ['targets', index, 'canary'],
        message: 'must differ from stable',
      });
    }
  });
  if (request.targets.length > 1 && request.whenRouteBusy !== 'reject') {
    ctx.addIssue({
      code: 'custom',
      path: ['whenRouteBusy'],
      message: 'must be "reject" for a release of several targets (queue and supersede take one route)',
    });
  }
}

function hookIssues(
  hooks: z.output<typeof rolloutRequestSchema>['hooks'] | undefined,
  ctx: z.RefinementCtx,
): void {
  if (hooks === undefined) return;
  const seen = new Set<string>();
  let total = 0;
  for (const [point, list] of Object.entries(hooks)) {
    (list ?? []).forEach((hook, index) => {
      total += 1;
      if (seen.has(hook.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['hooks', point, index, 'name'],
          message: `must be unique: another hook is named "${hook.name}"`,
        });
      }
      seen.add(hook.name);
    });
  }
  if (total > MAX_HOOKS) {
    ctx.addIssue({
      code: 'custom',
      path: ['hooks'],
      message: `must contain at most ${MAX_HOOKS} hooks in all`,
    });
  }
}

/** A validated request with every default filled in. */
export type RolloutRequest = z.output<typeof rolloutRequestSchema>;
/** What a person may write (defaults optional). */
export type RolloutRequestInput = z.input<typeof rolloutRequestSchema>;
export type MetricSource = z.output<typeof metricSourceSchema>;
export type HookSpec = NonNullable<NonNullable<RolloutRequest['hooks']>[HookPoint]>[number];

/** Validates an already-decoded value. */
export function validateRolloutRequest(value: unknown): Parsed<RolloutRequest> {
  const shape = shapeIssue(value, REQUEST_LIMITS);
  return shape === null ? validate(rolloutRequestSchema, value) : { ok: false, issues: [shape] };
}

/** Decodes and validates raw message bytes (size, UTF-8, JSON and shape first, then schema). */
export function parseRolloutRequest(raw: string | Uint8Array): Parsed<RolloutRequest> {
  const bytes = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
  const read = readJson(bytes, REQUEST_LIMITS);
  return read.ok ? validateRolloutRequest(read.value) : read;
}
