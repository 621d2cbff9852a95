/** The options `watch` and `start --watch` share, and the exit code a watch ends with. */
import { parseDurationSeconds } from '../../functions/core/duration.ts';
import { type CommandContext, EXIT, type ExitCode, stringOption, UsageError } from '../command.ts';
import type { FollowEnd, FollowOptions } from './follow.ts';

export const WATCH_OPTIONS = {
  timeout: { type: 'string' },
  interval: { type: 'string' },
} as const;

function durationMs(ctx: CommandContext, name: string): number | null {
  const text = stringOption(ctx, name);
  if (text === undefined) return null;
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined) throw new UsageError(`--${name} must be a duration like 90s, 30m or 2h`);
  return seconds * 1000;
}

export function followOptions(ctx: CommandContext, signal: AbortSignal): FollowOptions {
  const timeout = durationMs(ctx, 'timeout');
  return {
    intervalMs: Math.max(100, durationMs(ctx, 'interval') ?? 1000),
    deadline: timeout === null ? null : Date.now() + timeout,
    signal,
  };
}

/** 0 only for Succeeded. */
export function exitOf(end: FollowEnd): ExitCode {
  if (end.kind !== 'ended') return EXIT.timedOut;
  return end.outcome === 'Succeeded' ? EXIT.ok : EXIT.rolloutFailed;
}
