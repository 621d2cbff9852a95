/**
 * control: operator commands (pause, resume, promote, abort, retry) from the rollout-control
 * topic or the HTTP endpoint. Each records who asked and why.
 */
import { z } from 'zod';
import { planRetry } from '../core/create.ts';
import type { ControlCommand } from '../core/inputs.ts';
import { BACKEND_NAME, ROUTE_NAME } from '../core/request.ts';
import type { Phase } from '../core/state.ts';
import { ROLLOUT_ID, validate } from '../core/validation.ts';
import { InvalidInputError } from '../errors.ts';
import type { RolloutStore } from '../ports/rollout-store.ts';
import { type EmergencyDeps, withStoreDeadline } from './emergency.ts';
import type { RolloutExecutor } from './rollout-executor.ts';
import { rolloutNotFound } from './status.ts';

const commandSchema = z.strictObject(
  {
    rolloutId: z.string({ error: 'is required' }).regex(ROLLOUT_ID, { error: 'must be a rollout id' }),
    command: z.enum(['pause', 'resume', 'promote', 'abort', 'retry'], {
      error: 'must be one of pause, resume, promote, abort, retry',
    }),
    actor: z
      .string({ error: 'is required: who is asking (e.g. an email)' })
      .min(1, { error: 'must not be empty' })
      .max(200, { error: 'must be at most 200 characters' }),
    reason: z
      .string({ error: 'must be a string' })
      .max(500, { error: 'must be at most 500 characters' })
      .default(''),
    route: z
      .string({ error: 'must be a string' })
      .regex(ROUTE_NAME, { error: 'must be a full HTTPRoute name: projects/P/locations/L/httpRoutes/NAME' })
      .optional(),
    canary: z
      .string({ error: 'must be a string' })
      .regex(BACKEND_NAME, { error: 'must be a full backend service name' })
      .optional(),
  },
  { error: 'must be a JSON object {rolloutId, command, actor, reason}' },
);

export type ControlRequest = z.output<typeof commandSchema>;

export function parseControl(body: unknown): ControlRequest {
  const parsed = validate(commandSchema, body);
  if (parsed.ok) return parsed.value;
  throw InvalidInputError.fromIssues('control command rejected', parsed.issues, {
    code: 'INVALID_COMMAND',
    hint: 'send {"rolloutId": "…", "command": "pause|resume|promote|abort|retry", "actor": "…", "reason": "…"}',
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

export interface ControlDeps extends EmergencyDeps {
  readonly store: RolloutStore;
  readonly executor: RolloutExecutor;
  /** Starts a retry (same path as a new rollout request). */
  readonly startRetry: (
    body: unknown,
    id: string,
    attempt: number,
    retryOf: string,
    actor: string,
  ) => Promise<{ id: string; phase: Phase; version: number }>;
}

export interface OperatorCommand {
  readonly request: ControlRequest;
  /** The delivering message, so a redelivery changes nothing twice. */
  readonly dedupeKey?: string;
  /** When the operator issued it (the message's publish time); null for the synchronous HTTP path. */
  readonly issuedAt?: number | null;
}

export async function control(deps: ControlDeps, command: OperatorCommand): Promise<ControlResult> {
  const { request, dedupeKey, issuedAt = null } = command;
  const actor = `operator:${request.actor}`;
  const base = { rolloutId: request.rolloutId, command: request.command };
  if (request.command === 'retry') {
    const existing = await deps.store.get(request.rolloutId);
    if (existing === null) throw rolloutNotFound(request.rolloutId);
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
    const started = await deps.startRetry(
      plan.request,
      plan.id,
      plan.attempt,
      existing.retryOf ?? existing.id,
      actor,
    );
    return {
      ...base,
      applied: true,
      phase: started.phase,
      version: started.version,
      reason: `retry started as ${started.id}`,
      newRolloutId: started.id,
    };
  }
  // An abort that names the route and the canary takes the canary out even if Firestore is down.
  const target =
    request.command === 'abort' && request.route !== undefined && request.canary !== undefined
      ? { route: request.route, canary: request.canary, why: `abort by ${actor}` }
      : null;
  const result = await withStoreDeadline(
    deps,
    target,
    deps.executor.run(
      request.rolloutId,
      { type: 'control', command: request.command, actor, note: request.reason, issuedAt },
      dedupeKey === undefined ? {} : { dedupeKey },
    ),
  );
  if (result === null) throw rolloutNotFound(request.rolloutId);
  const overtaken = result.first?.event === 'rollout.command_overtaken';
  return {
    ...base,
    applied: result.transitions > 0 && !overtaken,
    phase: result.rollout.status.phase,
    version: result.rollout.version,
    reason: overtaken ? (result.first?.reason ?? null) : result.reason,
  };
}
