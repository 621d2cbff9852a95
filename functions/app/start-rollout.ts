/**
 * startRollout: a rollout request becomes a rollout. Validates it, checks the route is on the
 * allowlist, that its metric sources can measure the route's traffic and that it is in a state a
 * rollout can start from, creates the rollout idempotently with the route lock, and starts its
 * driver (one workflow execution, or the first step right away for scheduler-driven rollouts).
 */
import { randomUUID } from 'node:crypto';
import type { Caller } from '../core/caller.ts';
import { createRollout } from '../core/create.ts';
import { type HookUrlPolicy, hookUrlIssues } from '../core/hooks.ts';
import { routeKindIssues } from '../core/kind-fit.ts';
import { rolloutLogFields } from '../core/log-fields.ts';
import { type ChosenSource, type ChosenSources, metricSourceIssues } from '../core/metric-fit.ts';
import type { PlanContext } from '../core/plan.ts';
import { type MetricSource, type RolloutRequest, validateRolloutRequest } from '../core/request.ts';
import { type ProjectNames, withProjectId } from '../core/resource-name.ts';
import { backendKey, canonical, type RouteSnapshot, sameBackend } from '../core/routing/snapshot.ts';
import { isTerminal, type Rollout } from '../core/state.ts';
import { routesOf, targetsOf } from '../core/targets.ts';
import type { FieldIssue } from '../core/validation.ts';
import { ControllerError, InvalidInputError, RefusedError, TransientError } from '../errors.ts';
import { type RolloutStore, SpecConflictError } from '../ports/rollout-store.ts';
import type { TrafficRouter } from '../ports/traffic-router.ts';
import type { WorkflowExecutions } from '../ports/workflow-executions.ts';
import { type AuthorizeDeps, authorizeCaller } from './authorize.ts';
import { allowedBackends } from './backend-projects.ts';
import { type Config, defaultMetricSource, projectNames } from './config.ts';
import type { Lazy, LifecycleEvents } from './lifecycle-events.ts';
import type { Logger } from './log.ts';
import type { RolloutExecutor } from './rollout-executor.ts';
import {
  allowedTargets,
  type FoundRule,
  listsTargets,
  readTargets,
  ruleHintsOf,
  startableTargets,
} from './start-targets.ts';
import { endSuperseded, publishDisplaced, routeBusy } from './supersede.ts';

export interface StartDeps extends AuthorizeDeps {
  readonly store: RolloutStore;
  readonly router: Lazy<TrafficRouter>;
  readonly executions: Lazy<WorkflowExecutions>;
  readonly executor: RolloutExecutor;
  readonly events: LifecycleEvents;
  readonly config: Config;
  readonly clock: () => number;
  readonly log: Logger;
}

/** What starting a rollout's driver needs (startDriver; also wired into the executor for hand-overs). */
export type DriverDeps = Pick<StartDeps, 'store' | 'executions' | 'executor' | 'config' | 'clock'>;

export interface StartCommand {
  /** Decoded message body. */
  readonly body: unknown;
  /** Used for the rollout id when the request has no rolloutId. */
  readonly messageId: string;
  readonly actor: string;
  /**
   * Who asked (docs/security.md#authorization): the requests topic with the request's claimed
   * `requestedBy`, or — for a retry — the operator who asked for it. It must be allowed `start`
   * (a retry: `retry`) on every route of the request; it is recorded in the first history entry.
   * Undefined: an unidentified caller, refused.
   */
  readonly caller: Caller | undefined;
  readonly attempt?: number;
  readonly retryOf?: string;
  /**
   * Called with a non-retryable error that refused the request before a rollout existed for it
   * (invalid, not allowed, not ready, id conflict, busy route …); the error is thrown after.
   */
  readonly onRefused?: (error: ControllerError) => Promise<void>;
}

export type StartOutcome =
  | { readonly kind: 'created'; readonly rollout: Rollout }
  | { readonly kind: 'exists'; readonly rollout: Rollout };

export function rolloutIdFor(request: Pick<RolloutRequest, 'rolloutId'>, messageId: string): string {
  if (request.rolloutId) return request.rolloutId;
  const safe = messageId.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return `rollout-${safe}`.slice(0, 63);
}

/** Throws InvalidInputError / RefusedError (acknowledge, do not retry) or transient errors (retry). */
export async function startRollout(deps: StartDeps, command: StartCommand): Promise<StartOutcome> {
  const outcome = await refusable(command, async () => {
    const request = acceptedRequest(deps.config, command.body);
    const asked = command.retryOf === undefined ? 'start' : 'retry';
    await authorizeCaller(deps, command.caller, [asked], routesOf(request));
    const id = rolloutIdFor(request, command.messageId);
    const existing = await deps.store.get(id);
    if (existing === null) return create(deps, request, id, command, deps.log.child({ rolloutId: id }));
    // The same id with another request is someone else's rollout, not a repeat of this one.
    if (canonical(existing.spec) !== canonical(request)) throw new SpecConflictError(id, existing);
    return { kind: 'exists', rollout: existing } satisfies StartOutcome;
  });
  const log = deps.log.child({ rolloutId: outcome.rollout.id });
  if (outcome.kind === 'exists') {
    log.info('rollout already exists; this request is a repeat', { phase: outcome.rollout.status.phase });
  }
  // Also on a repeat: a delivery that died after creating a superseder had not ended the holder yet.
  await endSuperseded(deps, outcome.rollout);
  return { kind: outcome.kind, rollout: await startDriver(deps, outcome.rollout, command.actor) };
}

/** Runs the steps that may refuse the request, telling `onRefused` of a refusal before it is thrown. */
async function refusable<T>(command: StartCommand, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (command.onRefused && error instanceof ControllerError && !error.retryable) {
      await command.onRefused(error);
    }
    throw error;
  }
}

/** A valid request for a route this controller manages. */
export function acceptedRequest(config: Config, body: unknown): RolloutRequest {
  const checked = checkRequest(config, body);
  if (checked.kind === 'invalid') throw checked.problem;
  const [problem] = checked.problems;
  if (problem !== undefined) throw problem;
  return checked.request;
}

export type RequestChecks =
  | { readonly kind: 'invalid'; readonly problem: InvalidInputError }
  | {
      readonly kind: 'parsed';
      readonly request: RolloutRequest;
      /** Every check that failed, in the order acceptedRequest meets them (it throws the first). */
      readonly problems: readonly ControllerError[];
    };

/**
 * The checks of acceptedRequest (nothing read or written), every problem collected: a request
 * the schema rejects stops there (its issues name every field), the others are all run.
 */
export function checkRequest(config: Config, body: unknown): RequestChecks {
  const parsed = validateRolloutRequest(body);
  if (!parsed.ok) {
    const problem = InvalidInputError.fromIssues('rollout request rejected', parsed.issues, {
      code: 'INVALID_REQUEST',
      hint: 'fix the named fields (schema: schema/rollout-request.schema.json) and publish again',
    });
    return { kind: 'invalid', problem };
  }
  const problems: ControllerError[] = [];
  const attempt = (check: () => void): void => {
    try {
      check();
    } catch (error) {
      if (!(error instanceof ControllerError)) throw error;
      problems.push(error);
    }
  };
  attempt(() => allowedTargets(config, parsed.value));
  attempt(() => allowedHooks(parsed.value, config.hooks.urlPolicy));
  const request = withBackendsById(parsed.value, projectNames(config));
  attempt(() => distinctBackends(request));
  attempt(() => allowedBackends(config, request));
  attempt(() => judgeable(request, metricSources(config, request)));
  return { kind: 'parsed', request, problems };
}

/** Every hook URL must meet the controller's policy (production: HTTPS to public hosts only). */
function allowedHooks(request: RolloutRequest, policy: HookUrlPolicy): void {
  const issues: FieldIssue[] = Object.entries(request.hooks ?? {}).flatMap(([point, list]) =>
    (list ?? []).flatMap((hook, i) =>
      hookUrlIssues(hook.url, policy).map((rule) => ({ field: `hooks.${point}[${i}].url`, rule })),
    ),
  );
  if (issues.length === 0) return;
  throw InvalidInputError.fromIssues('rollout request rejected', issues, {
    code: 'INVALID_REQUEST',
    hint: 'point hooks at HTTPS URLs of public hosts (docs/hooks.md) and publish again',
  });
}

/** Stable and canary spelled differently (project number and id, URL and name) may still be one backend. */
function distinctBackends(request: RolloutRequest): RolloutRequest {
  const listed = listsTargets(request);
  const issues: FieldIssue[] = targetsOf(request).flatMap((t, i) =>
    sameBackend(t.stable, t.canary)
      ? [
          {
            field: listed ? `targets[${i}].canary` : 'canary',
            rule: `must differ from stable (both name ${backendKey(t.stable)})`,
          },
        ]
      : [],
  );
  if (issues.length === 0) return request;
  throw InvalidInputError.fromIssues('rollout request rejected', issues, {
    code: 'INVALID_REQUEST',
    hint: 'name two different backend services and publish again',
  });
}

/**
 * The request with stable and canary named by project id where they were named by project number
 * (`projects/<number>/…`), as the router keys the route's destinations: either spelling matches.
 */
export function withBackendsById(request: RolloutRequest, project: ProjectNames | null): RolloutRequest {
  return {
    ...request,
    stable: withProjectId(request.stable, project),
    canary: withProjectId(request.canary, project),
    ...(request.targets === undefined
      ? {}
      : {
          targets: request.targets.map((t) => ({
            ...t,
            ...(t.stable === undefined ? {} : { stable: withProjectId(t.stable, project) }),
            ...(t.canary === undefined ? {} : { canary: withProjectId(t.canary, project) }),
          })),
        }),
  };
}

/** Reads the route, checks a rollout can start from it, and creates the rollout with its route lock. */
async function create(
  deps: StartDeps,
  request: RolloutRequest,
  id: string,
  command: StartCommand,
  log: Logger,
): Promise<StartOutcome> {
  const now = deps.clock();
  const routes = await readTargets(await deps.router(), request);
  const sources = metricSources(deps.config, request);
  measurable(sources, routes);
  const found = startableTargets(request, routes, await routeBusy(deps.store, request));
  const first = found[0] as FoundRule;
  const created = createRollout({
    id,
    request,
    context: planContext(deps.config, sources),
    ruleIndex: first.index,
    ruleShape: first.shape,
    ...(listsTargets(request) ? { ruleHints: ruleHintsOf(found) } : {}),
    weights: first.weights,
    now,
    actor: command.actor,
    ...(command.caller === undefined ? {} : { caller: command.caller }),
    ...(command.attempt !== undefined ? { attempt: command.attempt } : {}),
    ...(command.retryOf !== undefined ? { retryOf: command.retryOf } : {}),
  });
  const outcome = await deps.store.create(created.rollout, created.entry);
  if (outcome.kind === 'created') {
    const entry = outcome.entry ?? created.entry;
    log.notice(entry.reason, {
      event: entry.event,
      actor: command.actor,
      phase: outcome.rollout.status.phase,
      rollout: rolloutLogFields(outcome.rollout, entry),
    });
    await deps.events.publish(outcome.rollout, entry);
    if (outcome.displaced) await publishDisplaced(deps, outcome.displaced);
  }
  return outcome;
}

/** Each backend's metric source: the request's, else the controller's default for that backend. */
export function metricSources(config: Config, request: RolloutRequest): ChosenSources {
  const chosen = (given: MetricSource | undefined, backend: string): ChosenSource =>
    given === undefined
      ? { source: defaultMetricSource(config, backend), from: 'default' }
      : { source: given, from: 'request' };
  const metrics = request.analysis.metrics;
  return { stable: chosen(metrics?.stable, request.stable), canary: chosen(metrics?.canary, request.canary) };
}

/**
 * Rejects, like any invalid request and before anything is stored or written, metric sources that
 * can never see the route's traffic (core `metricSourceIssues`: internalLb on a mesh route).
 */
export function measurable(sources: ChosenSources, routes: readonly RouteSnapshot[]): void {
  const all = routes.flatMap((route) => metricSourceIssues(sources, route.attachments));
  const issues = all.filter((issue, i) => all.findIndex((other) => other.field === issue.field) === i);
  if (issues.length === 0) return;
  throw InvalidInputError.fromIssues('rollout request rejected', issues, {
    code: 'INVALID_REQUEST',
    hint: 'set analysis.metrics.stable and .canary to sources that see mesh traffic (docs/rollout-request.md#metric-sources) and publish again',
  });
}

/**
 * Rejects, before anything is read, stored or written, metric sources that cannot judge a route
 * kind of the release (core `routeKindIssues`: gRPC errors unseen, raw TCP never on Cloud Run).
 */
function judgeable(request: RolloutRequest, sources: ChosenSources): void {
  const blind = request.analysis.blindToGrpcErrors;
  const issues = routeKindIssues(targetsOf(request), listsTargets(request), sources, blind);
  if (issues.length === 0) return;
  throw InvalidInputError.fromIssues('rollout request rejected', issues, {
    code: 'INVALID_REQUEST',
    hint: 'set analysis.metrics.stable and .canary to sources that see this kind of traffic (docs/route-kinds.md) and publish again',
  });
}

export function planContext(config: Config, sources: ChosenSources): PlanContext {
  return {
    metrics: { stable: sources.stable.source, canary: sources.canary.source },
    timing: {
      leaseMs: config.route.leaseMs,
      retryBaseMs: config.route.retryBaseMs,
      retryMaxMs: config.route.retryMaxMs,
      maxRouteAttempts: config.route.maxAttempts,
    },
    timeScale: config.timeScale,
    stalledAfterMs: config.stalledAfterMs,
  };
}

/** How long a start may take before its claim is taken over: the grace period and a slow API call. */
const START_CALL_MS = 60_000;

/**
 * One driver per rollout. Only the delivery that claims the start (a fenced claim in the store)
 * starts an execution, however many copies of the request arrive at once; the others ask Pub/Sub
 * to deliver them again. A start that fails gives the claim up, so a redelivery starts it; a
 * claimant that dies is taken over once its claim is stale. If two executions ever run, the first
 * one attached drives and the other is told to stop at its next call.
 */
export async function startDriver(deps: DriverDeps, r: Rollout, actor: string): Promise<Rollout> {
  // A queued rollout gets its driver when the route is handed to it (the executor that ends the
  // route's active rollout calls this again; the tick is the safety net).
  if (r.status.phase === 'Queued') return r;
  if (r.driver.kind === 'scheduler') {
    if (r.status.phase !== 'Pending') return r;
    const result = await deps.executor.run(r.id, { type: 'start', actor });
    return result?.rollout ?? r;
  }
  // A workflow-driven rollout without an execution gets one while it is not finished, even if
  // the tick (the safety net) has moved it on meanwhile: the workflow is its intended driver.
  if (r.driver.execution !== null || isTerminal(r.status.phase)) return r;
  const workflow = deps.config.workflow;
  if (workflow === null) {
    throw new RefusedError(`rollout ${r.id} asks for a workflow driver but none is configured`, {
      code: 'NO_WORKFLOW',
      hint: 'set WORKFLOW_NAME and ADVANCE_URL, or publish the request with "driver": "scheduler"',
    });
  }
  const token = randomUUID();
  const staleAfter = deps.config.startGraceMs + START_CALL_MS;
  if (!(await deps.store.claimDriverStart(r.id, token, deps.clock(), staleAfter))) throw driverPending(r);
  let execution: string;
  try {
    const executions = await deps.executions();
    execution = await executions.start(workflow.name, { rolloutId: r.id, advanceUrl: workflow.advanceUrl });
  } catch (error) {
    await deps.store.releaseDriverStart(r.id, token).catch(() => {});
    throw error;
  }
  const result = await deps.executor.run(r.id, { type: 'driverAttached', actor, execution }, { only: true });
  return result?.rollout ?? r;
}

function driverPending(r: Rollout): TransientError {
  return new TransientError(
    `rollout ${r.id} has no workflow execution yet; another delivery is starting it`,
    {
      code: 'DRIVER_PENDING',
      hint: 'nothing to do: the message is delivered again, and started from if that start fails',
    },
  );
}
