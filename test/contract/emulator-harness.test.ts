import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkEmulatorPrerequisites,
  MissingPrerequisiteError,
  startEmulator,
} from '../../local/emulators.ts';

const savedPath = process.env['PATH'];
afterEach(() => {
  process.env['PATH'] = savedPath;
});

function fakeSdk(components: readonly string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'fake-sdk-'));
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'bin', 'gcloud'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(root, 'bin', 'gcloud'), 0o755);
  for (const c of components) mkdirSync(join(root, 'platform', c), { recursive: true });
  const onPath = join(root, 'path');
  mkdirSync(onPath);
  symlinkSync(join(root, 'bin', 'gcloud'), join(onPath, 'gcloud'));
  return onPath;
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('emulator harness', () => {
  it('names gcloud when it is not installed', () => {
    process.env['PATH'] = mkdtempSync(join(tmpdir(), 'empty-path-'));
    expect(() => checkEmulatorPrerequisites(['firestore'])).toThrow(MissingPrerequisiteError);
    expect(() => checkEmulatorPrerequisites(['firestore', 'pubsub'])).toThrow(
      /gcloud is not on PATH.*gcloud components install cloud-firestore-emulator pubsub-emulator/,
    );
  });

  it('names each missing emulator component and Java', () => {
    process.env['PATH'] = fakeSdk(['cloud-firestore-emulator']);
    let message = '';
    try {
      checkEmulatorPrerequisites(['firestore', 'pubsub']);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/Java is not installed/);
    expect(message).toMatch(/the pubsub emulator is missing: gcloud components install pubsub-emulator/);
    expect(message).not.toMatch(/firestore emulator is missing/);
  });

  it('kills a started process group within seconds when the program that started it is SIGKILLed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orphan-'));
    const script = join(dir, 'starter.mjs');
    const processes = new URL('../../local/processes.ts', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { startProcess } from ${JSON.stringify(processes)};\n` +
        `const p = startProcess('sleep', ['300']);\nconsole.log(p.pid);\nsetInterval(() => {}, 1000);\n`,
    );
    const starter = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const group = await new Promise<number>((resolve, reject) => {
      starter.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      starter.once('exit', (code) => reject(new Error(`starter exited early (${code})`)));
    });
    expect(groupAlive(group)).toBe(true);
    starter.kill('SIGKILL');
    const deadline = Date.now() + 5_000;
    while (groupAlive(group) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const survived = groupAlive(group);
    if (survived) process.kill(-group, 'SIGKILL');
    expect(survived).toBe(false);
  });

  it('starts an emulator on a free port and stops its whole process group by PID', async () => {
    const emulator = await startEmulator('pubsub');
    expect(emulator.host).toMatch(/^127\.0\.0\.1:\d+$/);
    expect((await fetch(`http://${emulator.host}/`)).ok).toBe(true);
    await emulator.stop();
    expect(() => process.kill(-emulator.pid, 0)).toThrow();
    await expect(fetch(`http://${emulator.host}/`)).rejects.toThrow();
  });
});
