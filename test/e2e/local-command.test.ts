/**
 * `npm run local` as a user runs it: a separate process that starts the emulators and the
 * stand-ins, prints `export` lines for every endpoint (and writes them to an env file), serves
 * the demo route through the mesh, and stops everything on SIGTERM or Ctrl-C (SIGINT).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REQUIRED = [
  'GOOGLE_CLOUD_PROJECT',
  'FIRESTORE_EMULATOR_HOST',
  'PUBSUB_EMULATOR_HOST',
  'NETWORK_SERVICES_ENDPOINT',
  'MONITORING_ENDPOINT',
  'MESH_PROXY',
  'DEMO_ROUTE',
  'DEMO_HOSTNAME',
];

const dir = mkdtempSync(join(tmpdir(), 'local-command-'));
const children: ChildProcess[] = [];
afterAll(async () => {
  // SIGTERM lets the command stop the emulators it started (SIGKILL would orphan them).
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.all(
    running.map(async (c) => {
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }),
  );
  rmSync(dir, { recursive: true, force: true });
});

function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Z_]+)=(".*")$/.exec(line);
    if (m?.[1] && m[2]) env[m[1]] = JSON.parse(m[2]) as string;
  }
  return env;
}

/** GET / through the mesh proxy with a Host header (fetch does not let a caller set Host). */
function statusVia(proxy: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${proxy}/`, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}

function reachable(hostPort: string): Promise<boolean> {
  const [host = '', port = ''] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm run local', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'prints every endpoint, serves the demo route, and stops everything on %s',
    async (signal) => {
      const envFile = join(dir, `env-${signal}.sh`);
      const proc = spawn(
        process.execPath,
        ['local/commands/local.ts', '--env-out', envFile, '--apps', 'checkout'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(proc);
      let stdout = '';
      let stderr = '';
      proc.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      proc.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (stderr.includes('local cloud ready')) {
            clearInterval(timer);
            resolve();
          } else if (proc.exitCode !== null) {
            clearInterval(timer);
            reject(new Error(`npm run local exited early (${proc.exitCode}): ${stderr}`));
          }
        }, 100);
      });

      const env = parseExports(stdout);
      for (const key of REQUIRED) expect(env[key], key).toBeTruthy();
      expect(parseExports(readFileSync(envFile, 'utf8'))).toEqual(env);
      expect(stderr).toContain(`source ${envFile}`);

      const route = await fetch(`${env['NETWORK_SERVICES_ENDPOINT']}v1/${env['DEMO_ROUTE']}`);
      expect(route.status).toBe(200);
      expect(((await route.json()) as { hostnames: string[] }).hostnames).toContain(env['DEMO_HOSTNAME']);
      expect(await statusVia(env['MESH_PROXY'] ?? '', env['DEMO_HOSTNAME'] ?? '')).toBe(200);
      expect((await fetch(`http://${env['FIRESTORE_EMULATOR_HOST']}/`)).status).toBe(200);
      expect((await fetch(`http://${env['PUBSUB_EMULATOR_HOST']}/`)).status).toBe(200);
      expect(await reachable(env['MONITORING_ENDPOINT'] ?? '')).toBe(true);

      proc.kill(signal);
      expect(await exited).toBe(0);
      for (const key of ['FIRESTORE_EMULATOR_HOST', 'PUBSUB_EMULATOR_HOST', 'MONITORING_ENDPOINT'] as const) {
        expect(await reachable(env[key] ?? ''), `${key} still listening after ${signal}`).toBe(false);
      }
      expect(await reachable(new URL(env['MESH_PROXY'] ?? '').host)).toBe(false);
    },
  );
});
