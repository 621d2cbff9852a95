/**
 * advanceRollout: one driver call. Runs whatever is due and answers how long to wait before
 * the next call. An early or repeated call changes nothing and returns the remaining wait.
 */
import { isTerminal, type Phase, type Rollout } from '../core/state.ts';
import type { Config } from './config.ts';
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

export function answerFor(r: Rollout, now: number, config: Config, reason: string | null): AdvanceAnswer {
  const done = isTerminal(r.status.phase);
  const until = r.nextActionAt === null ? config.pausedPollMs : r.nextActionAt - now;
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
  readonly executor: RolloutExecutor;
  readonly config: Config;
  readonly clock: () => number;
}

export interface AdvanceCommand {
  readonly rolloutId: string;
  /** Who calls: `workflow:<execution>` or `workflow`. */
  readonly actor: string;
}

export async function advance(deps: AdvanceDeps, command: AdvanceCommand): Promise<AdvanceAnswer | null> {
  const result = await deps.executor.run(command.rolloutId, { type: 'due', actor: command.actor });
  return result === null ? null : answerFor(result.rollout, deps.clock(), deps.config, result.reason);
}
