/**
 * Google's Firestore and Pub/Sub emulators (from the gcloud CLI) on free ports.
 * Missing prerequisites fail at once with a message naming what to install.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { freePort, waitForHttp } from './net.ts';
import { type ManagedProcess, startProcess } from './processes.ts';

export type EmulatorKind = 'firestore' | 'pubsub';

export class MissingPrerequisiteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingPrerequisiteError';
  }
}

const COMPONENTS: Record<EmulatorKind, { dir: string; component: string; apt: string }> = {
  firestore: {
    dir: 'cloud-firestore-emulator',
    component: 'cloud-firestore-emulator',
    apt: 'google-cloud-cli-firestore-emulator',
  },
  pubsub: { dir: 'pubsub-emulator', component: 'pubsub-emulator', apt: 'google-cloud-cli-pubsub-emulator' },
};

function onPath(command: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return null;
}

/** Throws MissingPrerequisiteError naming every missing piece: gcloud, Java, emulator components. */
export function checkEmulatorPrerequisites(kinds: readonly EmulatorKind[]): void {
  const gcloud = onPath('gcloud');
  if (gcloud === null) {
    throw new MissingPrerequisiteError(
      'gcloud is not on PATH. Install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install), then: ' +
        `gcloud components install ${kinds.map((k) => COMPONENTS[k].component).join(' ')}`,
    );
  }
  const problems: string[] = [];
  try {
    execFileSync('java', ['-version'], { stdio: 'ignore' });
  } catch {
    problems.push(
      'Java is not installed or not on PATH (the emulators need a Java 17+ runtime, e.g. apt install openjdk-17-jre-headless)',
    );
  }
  const sdkRoot = dirname(dirname(realpathSync(gcloud)));
  for (const kind of kinds) {
    const c = COMPONENTS[kind];
    if (!existsSync(join(sdkRoot, 'platform', c.dir))) {
      problems.push(
        `the ${kind} emulator is missing: gcloud components install ${c.component} (or apt install ${c.apt})`,
      );
    }
  }
  if (problems.length > 0)
    throw new MissingPrerequisiteError(`Cannot start the emulators: ${problems.join('; ')}.`);
}

export interface Emulator {
  readonly kind: EmulatorKind;
  /** host:port, the value for FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST. */
  readonly host: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const START_ARGS: Record<EmulatorKind, (hostPort: string) => string[]> = {
  firestore: (hostPort) => ['emulators', 'firestore', 'start', `--host-port=${hostPort}`, '--quiet'],
  pubsub: (hostPort) => ['beta', 'emulators', 'pubsub', 'start', `--host-port=${hostPort}`, '--quiet'],
};

export async function startEmulator(kind: EmulatorKind, port?: number): Promise<Emulator> {
  checkEmulatorPrerequisites([kind]);
  const host = `127.0.0.1:${port ?? (await freePort())}`;
  const proc: ManagedProcess = startProcess('gcloud', START_ARGS[kind](host), {
    env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' },
  });
  try {
    await waitForHttp(`http://${host}/`, 90_000, () =>
      proc.child.exitCode !== null ? `the ${kind} emulator exited early:\n${proc.output()}` : null,
    );
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return { kind, host, pid: proc.pid, stop: () => proc.stop() };
}

/** Deletes every document of one project in the Firestore emulator. */
export async function clearFirestore(host: string, projectId: string): Promise<void> {
  const response = await fetch(
    `http://${host}/emulator/v1/projects/${projectId}/databases/(default)/documents`,
    {
      method: 'DELETE',
    },
  );
  if (!response.ok) throw new Error(`clearing Firestore emulator data failed: HTTP ${response.status}`);
}
