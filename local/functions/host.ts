/**
 * Runs a function entry point the way Cloud Run functions does: the functions-framework server
 * in its own process, with the function's environment, on a local port.
 */
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EntryPoint } from '../../functions/manifest.ts';
import { freePort } from '../net.ts';
import { type ManagedProcess, startProcess } from '../processes.ts';

const require = createRequire(import.meta.url);
// The package's `bin` (its exports map hides the path, so resolve it next to the package entry).
const frameworkMain = join(dirname(require.resolve('@google-cloud/functions-framework')), 'main.js');
const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface RunningFunction {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Last lines the process printed (its structured logs). */
  output(): string;
  stop(): Promise<void>;
  /** SIGKILL, as when an instance dies mid-request. */
  kill(): void;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startFunction(
  entry: EntryPoint,
  env: Readonly<Record<string, string>>,
  options: { port?: number; onLine?: (line: string) => void } = {},
): Promise<RunningFunction> {
  const port = options.port ?? (await freePort());
  const signature = entry.trigger.kind === 'http' ? 'http' : 'cloudevent';
  const proc: ManagedProcess = startProcess(
    process.execPath,
    [
      frameworkMain,
      `--source=${entry.source}`,
      `--target=${entry.name}`,
      `--signature-type=${signature}`,
      `--port=${port}`,
    ],
    { cwd: repositoryRoot, env: { ...process.env, ...env, PORT: String(port), NODE_ENV: 'production' } },
  );
  if (options.onLine) {
    const onLine = options.onLine;
    proc.child.stdout?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') onLine(line);
    });
  }
  const deadline = Date.now() + 30_000;
  while (!(await portOpen(port))) {
    if (proc.child.exitCode !== null)
      throw new Error(`function ${entry.name} exited at start-up:\n${proc.output()}`);
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`function ${entry.name} did not listen on ${port} within 30 s:\n${proc.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    name: entry.name,
    url: `http://127.0.0.1:${port}`,
    port,
    pid: proc.pid,
    output: () => proc.output(),
    stop: () => proc.stop(),
    kill: () => proc.kill(),
  };
}
