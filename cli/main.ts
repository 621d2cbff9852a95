/**
 * rolloutctl's dispatcher: finds the command, parses its options (plus the global --project,
 * --database, --json, --help), runs it, and turns every error into a message and an exit code
 * (docs/cli.md#exit-codes). Nothing here talks to the cloud.
 */
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { ControllerError, InvalidInputError, isRetryable } from '../functions/errors.ts';
import { type CliIo, type Command, EXIT, type ExitCode, UsageError } from './command.ts';
import { COMMANDS } from './commands/index.ts';

const GLOBAL_OPTIONS: ParseArgsOptionsConfig = {
  project: { type: 'string' },
  database: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/** Longest message echoed back from a failure (a request file can be large). */
const MAX_MESSAGE_CHARS = 2000;

export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => commandNames(c).length));
  const lines = COMMANDS.map((c) => `  ${commandNames(c).padEnd(width)}  ${c.summary}`);
  return `usage: rolloutctl COMMAND [ARGS] [--project P] [--json]

commands:
${lines.join('\n')}

global options:
  --project P    the controller's project (default $GOOGLE_CLOUD_PROJECT)
  --database D   its Firestore database (default $FIRESTORE_DATABASE, else "(default)")
  --json         machine-readable output
  -h, --help     help for rolloutctl or for one command

Uses Application Default Credentials, or the local cloud when FIRESTORE_EMULATOR_HOST and
PUBSUB_EMULATOR_HOST are set (source .local/env.sh). Exit codes: docs/cli.md#exit-codes.`;
}

function commandNames(c: Command): string {
  return [c.name, ...(c.aliases ?? [])].join('|');
}

function find(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name || (c.aliases ?? []).includes(name));
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(`${overview()}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = find(name);
  if (command === undefined) {
    io.err(`rolloutctl: unknown command ${bounded(name)}\n${overview()}\n`);
    return EXIT.usage;
  }
  let json = rest.includes('--json');
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: { ...GLOBAL_OPTIONS, ...command.options },
    });
    json = values['json'] === true;
    if (values['help'] === true) {
      io.out(`${command.help}\n`);
      return EXIT.ok;
    }
    const options = Object.fromEntries(
      Object.entries(values).map(([k, v]) => [k, Array.isArray(v) ? v.at(-1) : v]),
    );
    return await command.run({ args: positionals, options, json, io }, name);
  } catch (error) {
    return reportFailure(io, command, error, json);
  }
}

function bounded(text: string): string {
  return text.length <= MAX_MESSAGE_CHARS
    ? text
    : `${text.slice(0, MAX_MESSAGE_CHARS)}… (${text.length} characters)`;
}

function exitFor(error: unknown): ExitCode {
  if (error instanceof UsageError || isParseArgsError(error)) return EXIT.usage;
  if (error instanceof ControllerError) return isRetryable(error) ? EXIT.unavailable : EXIT.refused;
  if (isUnreachable(error)) return EXIT.unavailable;
  return EXIT.internal;
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/** gRPC UNAVAILABLE / DEADLINE_EXCEEDED and refused connections: the cloud is not reachable now. */
function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 14 || code === 4 || code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT';
}

function reportFailure(io: CliIo, command: Command, error: unknown, json: boolean): ExitCode {
  const exit = exitFor(error);
  const message = bounded(error instanceof Error ? error.message : String(error));
  const code =
    error instanceof ControllerError
      ? error.code
      : exit === EXIT.usage
        ? 'USAGE'
        : exit === EXIT.unavailable
          ? 'UNAVAILABLE'
          : 'INTERNAL';
  const hint =
    error instanceof ControllerError
      ? error.hint
      : exit === EXIT.usage
        ? `rolloutctl ${command.name} --help`
        : exit === EXIT.unavailable
          ? 'check the project, your credentials (gcloud auth application-default login) or the local cloud, and retry'
          : 'this is a bug in rolloutctl; please report it with the command you ran';
  const problems = error instanceof InvalidInputError ? error.problems : undefined;
  if (json) {
    io.err(`${JSON.stringify({ error: { code, message, hint, ...(problems ? { problems } : {}) } })}\n`);
  } else {
    const usage = exit === EXIT.usage ? `\n\n${command.help}` : '';
    io.err(`rolloutctl ${command.name}: ${message}\n  ${hint}${usage}\n`);
  }
  return exit;
}
