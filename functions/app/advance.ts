/**
 * advanceRollout: one driver call. Runs whatever is due and answers how long to wait before
 * the next call. An early or repeated call changes nothing and returns the remaining wait; a call
 * from an execution that does not drive the rollout is answered `done`, so it stops.
 */
import { executionDrives } from '../core/drivers.ts';
import { isTerminal, type Phase, type Rollout } from '../core/state.ts';
import type { RolloutStore } from '../ports/rollout-store.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import type { RolloutExecutor } from './rollout-executor.ts';

export interface AdvanceAnswer {
  readonly rolloutId: string;
  readonly done: boolean;
  readonly phase: Phase;
  readonly version: number;
  /** Seconds until something is due again (fractional in scaled local runs). */
  readonly waitSeconds: number;
  readonly reason: string | null;
}

export function answerFor(
  r: Rollout,
  now: number,
  config: Config,
  reason: string | null,
  retryAt: number | null = null,
): AdvanceAnswer {
  const done = isTerminal(r.status.phase);
  // A window not yet visible is looked at again at retryAt, though its stored due time has passed.
  const due = retryAt ?? r.nextActionAt;
  const until = due === null ? config.pausedPollMs : due - now;
  const waitMs = done ? 0 : Math.min(config.maxWaitMs, Math.max(config.minWaitMs, until));
  return {
    rolloutId: r.id,
    done,
    phase: r.status.phase,
    version: r.version,
    // Whole seconds in production (sys.sleep is documented in seconds); fractions only in scaled local runs.
    waitSeconds: config.minWaitMs >= 1000 ? Math.ceil(waitMs / 1000) : Math.round(waitMs) / 1000,
    reason,
  };
}

export interface AdvanceDeps {
  readonly store: RolloutStore;
  readonly executor: RolloutExecutor;
  readonly config: Config;
  readonly clock: () => number;
  readonly log: Logger;
}

export interface AdvanceCommand {
  readonly rolloutId: string;
  /** The calling workflow execution (full name), when it says. */
  readonly execution: string | null;
}

export async function advance(deps: AdvanceDeps, command: AdvanceCommand): Promise<AdvanceAnswer | null> {
  const { rolloutId, execution } = command;
  const stored = await deps.store.get(rolloutId);
  if (stored === null) return null;
  if (!executionDrives(stored, execution)) {
    const attached = stored.driver.kind === 'workflow' ? stored.driver.execution : 'the scheduler';
    const reason = `execution ${execution} does not drive this rollout (${attached} does); stopping it`;
    deps.log.warn(reason, { rolloutId, execution });
    return {
      rolloutId,
      done: true,
      phase: stored.status.phase,
      version: stored.version,
      waitSeconds: 0,
      reason,
    };
  }
  const actor = execution === null ? 'workflow' : `workflow:${execution}`;
  const result = await deps.executor.run(rolloutId, { type: 'due', actor }, { loaded: stored });
  if (result === null) return null;
  return answerFor(result.rollout, deps.clock(), deps.config, result.reason, result.retryAt);
}
