/**
 * control: operator commands (pause, resume, promote, abort, retry) from the rollout-control
 * topic or the HTTP endpoint. Each records who asked and why.
 */
import { z } from 'zod';
import { planRetry } from '../core/create.ts';
import type { ControlCommand } from '../core/inputs.ts';
import type { Phase } from '../core/state.ts';
import { InvalidInputError, RefusedError } from '../errors.ts';
import type { RolloutStore } from '../ports/rollout-store.ts';
import type { RolloutDriver } from './rollout-driver.ts';

const commandSchema = z.strictObject(
  {
    rolloutId: z
      .string({ error: 'is required' })
      .regex(/^[a-z0-9][-a-z0-9]{0,62}$/, { error: 'must be a rollout id' }),
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
  },
  { error: 'must be a JSON object {rolloutId, command, actor, reason}' },
);

export type ControlRequest = z.output<typeof commandSchema>;

export function parseControl(body: unknown): ControlRequest {
  const parsed = commandSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => ({
    field: i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.join('.') || '$',
    rule: i.code === 'unrecognized_keys' ? 'is not a known field' : i.message,
  }));
  throw new InvalidInputError(
    `control command rejected: ${problems.map((p) => `${p.field} ${p.rule}`).join('; ')}`,
    problems,
    {
      code: 'INVALID_COMMAND',
      hint: 'send {"rolloutId": "…", "command": "pause|resume|promote|abort|retry", "actor": "…", "reason": "…"}',
    },
  );
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

export interface ControlDeps {
  readonly store: RolloutStore;
  readonly driver: RolloutDriver;
  /** Starts a retry (same path as a new rollout request). */
  readonly startRetry: (
    body: unknown,
    id: string,
    attempt: number,
    retryOf: string,
    actor: string,
  ) => Promise<{ id: string; phase: Phase; version: number }>;
}

export async function control(
  deps: ControlDeps,
  request: ControlRequest,
  dedupeKey?: string,
): Promise<ControlResult> {
  const actor = `operator:${request.actor}`;
  const base = { rolloutId: request.rolloutId, command: request.command };
  if (request.command === 'retry') {
    const existing = await deps.store.get(request.rolloutId);
    if (existing === null) throw notFound(request.rolloutId);
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
  const result = await deps.driver.drive(
    request.rolloutId,
    { type: 'control', command: request.command, actor, note: request.reason },
    dedupeKey === undefined ? {} : { dedupeKey },
  );
  if (result === null) throw notFound(request.rolloutId);
  return {
    ...base,
    applied: result.transitions > 0,
    phase: result.rollout.status.phase,
    version: result.rollout.version,
    reason: result.reason,
  };
}

function notFound(id: string): RefusedError {
  return new RefusedError(`no rollout ${id}`, {
    code: 'ROLLOUT_NOT_FOUND',
    hint: 'check the rollout id (rolloutctl list)',
  });
}
