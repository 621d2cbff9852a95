/**
 * Child processes of the local cloud. Each runs in its own process group so that stopping it
 * also stops what it started (gcloud starts a JVM); every group still running when this
 * process exits, fails or is interrupted is killed by PID. A tiny watcher shell per group also
 * kills the group within a second of this process vanishing without a word (SIGKILL, a crash),
 * so no emulator outlives the program that started it.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

const running = new Set<ChildProcess>();
let hooksInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const child of running) killGroup(child, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const child of running) killGroup(child, 'SIGKILL');
      // Leave the exit to the program when it handles the signal itself.
      if (process.listenerCount(signal) === 0) process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function groupGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pid) && Date.now() < deadline) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Last lines of stdout and stderr, for error messages. */
  output(): string;
  /** Stops the whole process group: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Kills the group at once (tests that simulate a crash). */
  kill(): void;
}

/**
 * Waits while both the parent ($1) and the group's leader ($2) live; if the parent went first,
 * kills the whole group. `exec kill` runs the system kill, which (unlike dash's builtin) takes a
 * negative process-group id after `--`.
 */
const WATCHER = [
  'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done',
  'kill -0 "$1" 2>/dev/null || exec kill -s KILL -- "-$2"',
].join('\n');

function watchForOrphaning(group: number): void {
  const watcher = spawn('/bin/sh', ['-c', WATCHER, 'watch', String(process.pid), String(group)], {
    detached: true,
    stdio: 'ignore',
  });
  watcher.on('error', () => undefined);
  watcher.unref();
}

export function startProcess(
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ManagedProcess {
  installHooks();
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  running.add(child);
  watchForOrphaning(child.pid);
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > 60) lines.shift();
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));
  const pid = child.pid;
  return {
    child,
    pid,
    output: () => lines.join('\n'),
    kill: () => killGroup(child, 'SIGKILL'),
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // gcloud may exit before its JVM: make sure nothing of the group survives, and wait for it.
      await groupGone(pid, graceMs);
    },
  };
}
