/**
 * The controller's configuration as rolloutctl reads it: the functions' own loader (config.ts
 * loadConfig) over the environment, overridden by `--config FILE` — KEY=VALUE lines, the functions'
 * environment, as `terraform output -raw rolloutctl_config` and the local cloud
 * (.local/controller.env) write them — and by --project and --database.
 */
import { type Config, loadConfig } from '../functions/app/config.ts';
import { InvalidInputError } from '../functions/errors.ts';
import { type CommandContext, stringOption, UsageError } from './command.ts';

/** KEY=VALUE lines: blank lines and # comments skipped, `export ` allowed, "…" values JSON strings. */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const env: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim().replace(/^export\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0)
      throw new UsageError(`${file}:${i + 1}: expected KEY=VALUE, got ${JSON.stringify(raw.slice(0, 80))}`);
    env[line.slice(0, eq).trim()] = unquoted(line.slice(eq + 1).trim(), `${file}:${i + 1}`);
  });
  return env;
}

function unquoted(value: string, at: string): string {
  if (!(value.startsWith('"') && value.endsWith('"') && value.length >= 2)) return value;
  try {
    return String(JSON.parse(value));
  } catch {
    throw new UsageError(`${at}: the quoted value is not a JSON string`);
  }
}

export function controllerConfig(ctx: CommandContext): Config {
  const file = stringOption(ctx, 'config');
  let fromFile: Record<string, string> = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = ctx.io.readFile(file);
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
    }
    fromFile = parseEnvFile(text, file);
  }
  const project = stringOption(ctx, 'project');
  const database = stringOption(ctx, 'database');
  const env = {
    ...ctx.io.env,
    ...fromFile,
    ...(project ? { GOOGLE_CLOUD_PROJECT: project } : {}),
    ...(database ? { FIRESTORE_DATABASE: database } : {}),
  };
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    const fields = error.problems.map((p) => `${p.field}: ${p.rule}`).join('; ');
    throw new UsageError(
      `the controller's configuration is incomplete (${fields || error.message}): pass --config FILE (terraform output -raw rolloutctl_config, or .local/controller.env) or set its variables`,
    );
  }
}
