/**
 * Runs rolloutctl as a process, as a user would, and collects what it printed and its exit code.
 * `env` is merged over a clean environment holding only PATH/HOME and the emulator hosts given.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROLLOUTCTL = fileURLToPath(new URL('../../cli/rolloutctl.ts', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Written to stdin, then closed (default: stdin closed at once). */
  readonly input?: string;
  readonly cwd?: string;
  /** Kills the process (SIGTERM) after this long; the run then resolves with what it had. */
  readonly timeoutMs?: number;
}

export function runRolloutctl(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [ROLLOUTCTL, ...args], {
    cwd: options.cwd,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      METADATA_SERVER_DETECTION: 'none',
      ...options.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdin.end(options.input ?? '');
  const timer =
    options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
