/**
 * advanceDue: advances one rollout the tick handed out. A due rollout is decided on the copy the
 * message carries (no read); the commit is fenced on its version, so if another driver moved the
 * rollout meanwhile the executor reads it again and decides on that. The change is recorded with
 * `advance:<id>:<version>`, so a redelivered message changes nothing a second time.
 */
import type { Input } from '../core/inputs.ts';
import type { Phase } from '../core/state.ts';
import { type AdvanceMessage, advanceDedupeKey } from './advance-message.ts';
import type { RolloutExecutor, RunOptions } from './rollout-executor.ts';

export interface AdvanceDueOutcome {
  readonly rolloutId: string;
  readonly phase: Phase;
  readonly version: number;
  readonly transitions: number;
  /** The message was handled before (a redelivery): nothing changed. */
  readonly duplicate: boolean;
  /** Why the last decision changed nothing; null if it ended on a change. */
  readonly reason: string | null;
}

export async function advanceDue(
  deps: { readonly executor: RolloutExecutor },
  message: AdvanceMessage,
): Promise<AdvanceDueOutcome | null> {
  const [input, options] = runOf(message);
  const result = await deps.executor.run(message.rolloutId, input, options);
  if (result === null) return null;
  return {
    rolloutId: message.rolloutId,
    phase: result.rollout.status.phase,
    version: result.rollout.version,
    transitions: result.transitions,
    duplicate: result.duplicate,
    reason: result.reason,
  };
}

function runOf(message: AdvanceMessage): [Input, RunOptions] {
  if (message.kind === 'operations') {
    return [{ type: 'operationsPending', actor: message.actor, operations: message.operations }, {}];
  }
  return [
    { type: 'due', actor: message.actor },
    {
      dedupeKey: advanceDedupeKey(message.rolloutId, message.version),
      ...(message.rollout === null ? {} : { loaded: message.rollout }),
    },
  ];
}
