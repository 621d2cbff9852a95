/**
 * control: operator commands (pause, resume, promote, abort, retry) from the rollout-control
 * topic or the HTTP endpoint. Each records who asked and why. An abort with `"gradual": true`
 * steps the canary down through the plan's lower weights, holding each for `hold` (default 60 s).
 */
import { z } from 'zod';
import type { PolicyCommand } from '../core/authz.ts';
import type { Caller } from '../core/caller.ts';
import { planRetry } from '../core/create.ts';
import { parseDurationSeconds } from '../core/duration.ts';
import { type InputLimits, shapeIssue } from '../core/input-shape.ts';
import type { ControlCommand, Input } from '../core/inputs.ts';
import { BACKEND_NAME, ROUTE_NAME } from '../core/request.ts';
import type { Phase, Rollout } from '../core/state.ts';
import { routesOf } from '../core/targets.ts';
import { ROLLOUT_ID, validate } from '../core/validation.ts';
import { InvalidInputError } from '../errors.ts';
import type { RolloutStore } from '../ports/rollout-store.ts';
import { type AuthorizeDeps, authorizeCaller, refusalOfUnknown } from './authorize.ts';
import { allowedCommandCanary } from './backend-projects.ts';
import { type EmergencyDeps, withStoreDeadline } from './emergency.ts';
import type { RolloutExecutor } from './rollout-executor.ts';
import { rolloutNotFound } from './status.ts';

/** How long a gradual abort holds each lower weight when the command does not say; and at most. */
export const DEFAULT_STEP_DOWN_HOLD_SECONDS = 60;
export const MAX_STEP_DOWN_HOLD_SECONDS = 3600;

const commandSchema = z.strictObject(
  {
    rolloutId: z.string({ error: 'is required' }).regex(ROLLOUT_ID, { error: 'must be a rollout id' }),
    command: z.enum(['pause', 'resume', 'promote', 'abort', 'retry'], {
      error: 'must be one of pause, resume, promote, abort, retry',
    }),
    actor: z
      .string({ error: 'must be a string: who is asking (e.g. an email)' })
      .min(1, { error: 'must not be empty' })
      .max(200, { error: 'must be at most 200 characters' })
      .optional(),
    reason: z
      .string({ error: 'must be a string' })
      .max(500, { error: 'must be at most 500 characters' })
      .default(''),
    route: z
      .string({ error: 'must be a string' })
      .regex(ROUTE_NAME, {
        error:
          'must be a full route name (HTTPRoute, GRPCRoute, TCPRoute or TLSRoute): projects/P/locations/L/{httpRoutes|grpcRoutes|tcpRoutes|tlsRoutes}/NAME',
      })
      .optional(),
    canary: z
      .string({ error: 'must be a string' })
      .regex(BACKEND_NAME, { error: 'must be a full backend service name' })
      .optional(),
    gradual: z.boolean({ error: 'must be true or false' }).optional(),
    hold: z
      .string({ error: 'must be a duration string such as "30s", "1m" or "5m"' })
      .refine((text) => parseDurationSeconds(text) !== undefined, {
        error: 'must be a whole number followed by s, m or h (e.g. "30s", "1m")',
      })
      .refine((text) => (parseDurationSeconds(text) ?? 0) <= MAX_STEP_DOWN_HOLD_SECONDS, {
        error: `must be at most ${MAX_STEP_DOWN_HOLD_SECONDS}s`,
      })
      .optional(),
  },
  { error: 'must be a JSON object {rolloutId, command, actor, reason}' },
);

/** `gradual` and `hold` belong to an abort that steps down, and to nothing else. */
const controlSchema = commandSchema.superRefine((c, ctx) => {
  if (c.gradual === true && c.command !== 'abort') {
    ctx.addIssue({ code: 'custom', path: ['gradual'], message: 'is only for the abort command' });
  }
  if (c.gradual === true && (c.route !== undefined || c.canary !== undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: ['gradual'],
      message:
        'cannot be combined with route and canary (an abort that names them takes the canary out at once, even without Firestore)',
    });
  }
  if (c.hold !== undefined && c.gradual !== true) {
    ctx.addIssue({
      code: 'custom',
      path: ['hold'],
      message: 'is only for a gradual abort ("gradual": true)',
    });
  }
});

export type ControlRequest = z.output<typeof controlSchema>;

/** A command is one flat object of a few short fields: anything larger is refused before its schema. */
export const CONTROL_LIMITS: InputLimits = { maxBytes: 16 * 1024, maxDepth: 2, maxKeys: 16, maxItems: 16 };

/**
 * A command as sent. Over Pub/Sub the claimed `actor` is the only trace of who asked, so it is
 * required there; over HTTP the verified ID token names the caller and `actor` is an optional note.
 */
export function parseControl(body: unknown, actor: 'required' | 'optional' = 'required'): ControlRequest {
  const shape = shapeIssue(body, CONTROL_LIMITS);
  const parsed = shape === null ? validate(controlSchema, body) : { ok: false as const, issues: [shape] };
  if (parsed.ok && (actor === 'optional' || parsed.value.actor !== undefined)) return parsed.value;
  const issues = parsed.ok
    ? [{ field: 'actor', rule: 'is required: who is asking (e.g. an email)' }]
    : parsed.issues;
  throw InvalidInputError.fromIssues('control command rejected', issues, {
    code: 'INVALID_COMMAND',
    hint: 'send {"rolloutId": "…", "command": "pause|resume|promote|abort|retry", "actor": "…", "reason": "…"} (an abort may add "gradual": true and "hold": "1m")',
  });
}

export interface ControlResult {
  readonly rolloutId: string;
  readonly command: ControlCommand;
  readonly applied: boolean;
  readonly phase: Phase;
  readonly version: number;
  readonly reason: string | null;
  /** For retry: the new rollout. */
  readonly newRolloutId?: string;
}

export interface ControlDeps extends EmergencyDeps, AuthorizeDeps {
  readonly store: RolloutStore;
  readonly executor: RolloutExecutor;
  /** Starts a retry (same path as a new rollout request). */
  readonly startRetry: (
    body: unknown,
    id: string,
    attempt: number,
    retryOf: string,
    actor: string,
    /** The operator's caller: the retry is authorized and recorded as theirs. */
    caller: Caller | undefined,
  ) => Promise<{ id: string; phase: Phase; version: number }>;
}

export interface OperatorCommand {
  readonly request: ControlRequest;
  /** The delivering message, so a redelivery changes nothing twice. */
  readonly dedupeKey?: string;
  /** When the operator issued it (the message's publish time); null for the synchronous HTTP path. */
  readonly issuedAt?: number | null;
  /** Who sent it and how that is known (core/caller.ts); authorized against config.authz. */
  readonly caller?: Caller;
}

/**
 * Runs an operator's command once the caller is authorized for it on every route of the rollout
 * (docs/security.md#authorization); a refusal (ForbiddenError) changes nothing.
 */
export async function control(deps: ControlDeps, command: OperatorCommand): Promise<ControlResult> {
  const { request, dedupeKey, issuedAt = null, caller } = command;
  allowedCommandCanary(deps.config, request.canary);
  const actor = operatorActor(request, caller);
  if (request.command === 'retry') return retry(deps, request, actor, caller);
  // An abort that names the route and the canary takes the canary out even if Firestore is down:
  // it is authorized on the route it names first, and on the rollout's routes once it is read.
  const target =
    request.command === 'abort' && request.route !== undefined && request.canary !== undefined
      ? { routes: [request.route], canary: request.canary, why: `abort by ${actor}` }
      : null;
  if (target !== null) await authorizeCaller(deps, caller, ['abort'], target.routes);
  const work = async () => {
    await authorizedRollout(deps, request, caller);
    return deps.executor.run(
      request.rolloutId,
      controlInput(request, actor, issuedAt, caller),
      dedupeKey === undefined ? {} : { dedupeKey },
    );
  };
  const result = await withStoreDeadline(deps, target, work());
  if (result === null) throw rolloutNotFound(request.rolloutId);
  const overtaken = result.first?.event === 'rollout.command_overtaken';
  return {
    rolloutId: request.rolloutId,
    command: request.command,
    applied: result.transitions > 0 && !overtaken,
    phase: result.rollout.status.phase,
    version: result.rollout.version,
    reason: overtaken ? (result.first?.reason ?? null) : result.reason,
  };
}

async function retry(
  deps: ControlDeps,
  request: ControlRequest,
  actor: string,
  caller: Caller | undefined,
): Promise<ControlResult> {
  const base = { rolloutId: request.rolloutId, command: request.command };
  const existing = await authorizedRollout(deps, request, caller);
  const plan = planRetry(existing);
  if (!plan.ok) {
    return {
      ...base,
      applied: false,
      phase: existing.status.phase,
      version: existing.version,
      reason: plan.reason,
    };
  }
  const retryOf = existing.retryOf ?? existing.id;
  const started = await deps.startRetry(plan.request, plan.id, plan.attempt, retryOf, actor, caller);
  return {
    ...base,
    applied: true,
    phase: started.phase,
    version: started.version,
    reason: `retry started as ${started.id}`,
    newRolloutId: started.id,
  };
}

/**
 * The rollout the command is for, once the caller is allowed the command on all its routes (and,
 * for a promote past a confirmPromotion hook, to override hooks). An unknown id is refused like a
 * known one to a caller holding the command on no route at all; others learn it is not found.
 */
async function authorizedRollout(
  deps: ControlDeps,
  request: ControlRequest,
  caller: Caller | undefined,
): Promise<Rollout> {
  const rollout = await deps.store.get(request.rolloutId);
  if (rollout === null) {
    throw (await refusalOfUnknown(deps, caller, request.command)) ?? rolloutNotFound(request.rolloutId);
  }
  await authorizeCaller(deps, caller, commandsOf(request, rollout), routesOf(rollout.spec));
  return rollout;
}

/** What the policy must allow: the command, and overrideHooks for a promote that skips confirmPromotion. */
export function commandsOf(request: ControlRequest, rollout: Rollout): PolicyCommand[] {
  const confirms = rollout.plan.hooks?.confirmPromotion.length ?? 0;
  return request.command === 'promote' && confirms > 0 ? ['promote', 'overrideHooks'] : [request.command];
}

/** The actor recorded: a verified caller's email, never what the body claims; else the claimed name. */
function operatorActor(request: ControlRequest, caller: Caller | undefined): string {
  if (caller?.kind === 'verified') return `operator:${caller.email}`;
  return `operator:${request.actor ?? 'unnamed'}`;
}

function controlInput(
  request: ControlRequest,
  actor: string,
  issuedAt: number | null,
  caller: Caller | undefined,
): Input {
  const { command, reason } = request;
  return {
    type: 'control',
    command,
    actor,
    note: reason,
    issuedAt,
    gradual: gradualOf(request),
    ...(caller === undefined ? {} : { caller }),
  };
}

/** A gradual abort's hold as written (the core scales it by the rollout's time scale), or null. */
export function gradualOf(request: ControlRequest): { readonly holdMs: number } | null {
  if (request.command !== 'abort' || request.gradual !== true) return null;
  const seconds = parseDurationSeconds(request.hold ?? '') ?? DEFAULT_STEP_DOWN_HOLD_SECONDS;
  return { holdMs: seconds * 1000 };
}
