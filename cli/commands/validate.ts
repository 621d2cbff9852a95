/** rolloutctl validate -f request.json: the controller's own schema, offline. */
import { parseRolloutRequest, type RolloutRequest } from '../../functions/core/request.ts';
import { routesOf } from '../../functions/core/targets.ts';
import { InvalidInputError } from '../../functions/errors.ts';
import { type Command, type CommandContext, EXIT, printJson, stringOption, UsageError } from '../command.ts';

/** The text of the request file `-f FILE` (stdin for `-f -`); UsageError when missing or unreadable. */
export function requestFile(ctx: CommandContext): { readonly file: string; readonly text: string } {
  const file = stringOption(ctx, 'file');
  if (!file) throw new UsageError('-f request.json is required');
  try {
    return { file, text: ctx.io.readFile(file) };
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** The request in `-f FILE` (or stdin for `-f -`), parsed and validated; InvalidInputError names the fields. */
export function requestFromFile(ctx: CommandContext): RolloutRequest {
  const { file, text } = requestFile(ctx);
  const parsed = parseRolloutRequest(text);
  if (!parsed.ok) {
    throw InvalidInputError.fromIssues(`invalid request in ${file}`, parsed.issues, {
      code: 'INVALID_REQUEST',
      hint: 'fix the named fields (schema: schema/rollout-request.schema.json)',
    });
  }
  return parsed.value;
}

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check a rollout request with the controller’s own schema (offline)',
  help: `usage: rolloutctl validate -f request.json [--json]

Checks the request file (or stdin with -f -) against the controller's schema without
touching any cloud resource. Exit 0 when valid, 3 when not (each problem names its field).`,
  options: { file: { type: 'string', short: 'f' } },
  async run(ctx) {
    const request = requestFromFile(ctx);
    const routes = routesOf(request);
    if (ctx.json) printJson(ctx.io, { valid: true, steps: request.steps.length, routes });
    else ctx.io.out(`valid: ${request.steps.length} steps on ${routes.join(', ')}\n`);
    return EXIT.ok;
  },
};
