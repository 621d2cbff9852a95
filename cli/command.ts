/**
 * What every rolloutctl command is: a name, its help, its own options, and a run that returns
 * the process's exit code. Output goes through `CliIo` so tests can run commands as processes and
 * read exactly what a user sees; `--json` makes every command print machine-readable JSON.
 */
import type { ParseArgsOptionsConfig } from 'node:util';

/**
 * Exit codes scripts can rely on (docs/cli.md#exit-codes).
 *   0  done (watch: the rollout Succeeded)
 *   1  the rollout ended without succeeding (RolledBack, Aborted, Failed, Superseded)
 *   2  usage: unknown command or option, missing argument or project
 *   3  refused: bad request file, unknown rollout, a request the controller rejected, a plan with problems
 *   4  the rollout waits for a person (ActionRequired) and the command was asked not to wait
 *   5  unavailable: Google Cloud (or the local cloud) could not be reached; safe to retry
 *   6  timed out (watch --timeout) before the rollout ended
 *  70  a bug in rolloutctl (please report it)
 */
export const EXIT = {
  ok: 0,
  rolloutFailed: 1,
  usage: 2,
  refused: 3,
  needsPerson: 4,
  unavailable: 5,
  timedOut: 6,
  internal: 70,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake in how the command was called: printed with the command's usage, exit 2. */
export class UsageError extends Error {}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (watch redraws in place only then). */
  readonly isTTY: boolean;
  /** Terminal width in columns, when stdout is a terminal. */
  readonly columns: number | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads a whole file, or stdin for "-". */
  readFile(path: string): string;
}

export type OptionValue = string | boolean | undefined;

export interface CommandContext {
  /** The command's positional arguments (after the command name). */
  readonly args: readonly string[];
  /** Parsed options, global ones (--project, --json) included. */
  readonly options: Readonly<Record<string, OptionValue>>;
  /** True with --json: print JSON documents (JSON lines for streams), nothing else, on stdout. */
  readonly json: boolean;
  readonly io: CliIo;
}

export interface Command {
  readonly name: string;
  /** Other names the same command answers to (e.g. pause, resume, … share one implementation). */
  readonly aliases?: readonly string[];
  /** One line for `rolloutctl --help`. */
  readonly summary: string;
  /** Full help for `rolloutctl COMMAND --help`: synopsis, options, exit codes it uses, an example. */
  readonly help: string;
  readonly options: ParseArgsOptionsConfig;
  run(ctx: CommandContext, name: string): Promise<ExitCode>;
}

export function stringOption(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.options[name];
  return typeof value === 'string' ? value : undefined;
}

export function flag(ctx: CommandContext, name: string): boolean {
  return ctx.options[name] === true;
}

/** Prints one JSON document (one line: JSON lines when called repeatedly). */
export function printJson(io: CliIo, value: unknown): void {
  io.out(`${JSON.stringify(value)}\n`);
}
