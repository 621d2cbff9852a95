/**
 * The environment of a running local cloud as a file another shell can `source`
 * (default `.local/env.sh`, next to the other local run files; ignored by git).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { exportLines } from '../cloud.ts';

export const LOCAL_DIR = new URL('../../.local/', import.meta.url).pathname;
export const ENV_FILE = '.local/env.sh';

/** Writes `export` lines for `env` to `file` (default .local/env.sh) and returns them. */
export function writeEnvFile(env: Readonly<Record<string, string>>, file?: string): string {
  const path = resolve(file ?? `${LOCAL_DIR}env.sh`);
  mkdirSync(dirname(path), { recursive: true });
  const lines = exportLines(env);
  writeFileSync(path, `${lines}\n`);
  return lines;
}

/** The controller's configuration as KEY="VALUE" lines (default .local/controller.env), for `rolloutctl plan --config`. */
export function writeControllerEnvFile(env: Readonly<Record<string, string>>, file?: string): string {
  const path = resolve(file ?? `${LOCAL_DIR}controller.env`);
  mkdirSync(dirname(path), { recursive: true });
  const lines = Object.entries(env).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
