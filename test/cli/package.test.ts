/**
 * rolloutctl as the package ships it: `npm pack` (which runs `prepack`, the esbuild bundle) lists
 * the bin and the LICENSE, and the packed bin, unpacked into a node_modules directory as npm
 * installs it, runs as a process: --help, and validate on a good and a bad request file.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/build-cli.ts';
import { requestInput } from '../support/fixtures.ts';

const run = promisify(execFile);

interface PackedFile {
  readonly path: string;
  readonly mode: number;
}
interface Manifest {
  readonly bin?: Record<string, string>;
  readonly license?: string;
  readonly private?: boolean;
  readonly files?: string[];
  readonly dependencies?: Record<string, string>;
}

let work: string;
let packed: { files: PackedFile[]; filename: string };
let manifest: Manifest;
/** Where npm would install the package, and its command. */
let installed: string;
let command: string;

/** What a user's shell runs: the command on PATH, with this Node first on PATH for its `env node`. */
async function rolloutctl(args: readonly string[], cwd: string) {
  const env = {
    PATH: [dirname(process.execPath), process.env['PATH'] ?? ''].join(delimiter),
    HOME: process.env['HOME'] ?? '',
  };
  try {
    const { stdout, stderr } = await run(command, [...args], { cwd, env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'rolloutctl-pack-'));
  manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as Manifest;
  // A real pack (prepack builds dist/cli), written to the temporary directory.
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: ROOT,
    timeout: 120_000,
  });
  const [result] = JSON.parse(stdout) as { files: PackedFile[]; filename: string }[];
  if (result === undefined) throw new Error(`npm pack printed no result: ${stdout}`);
  packed = result;
  // Unpacked where npm installs it, its dependencies beside it (links to this checkout's).
  installed = join(work, 'node_modules', 'gcp-canary-controller');
  await mkdir(installed, { recursive: true });
  await run('tar', ['-xzf', join(work, packed.filename), '-C', installed, '--strip-components=1']);
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    await mkdir(dirname(join(work, 'node_modules', name)), { recursive: true });
    await symlink(join(ROOT, 'node_modules', name), join(work, 'node_modules', name), 'dir');
  }
  const binPath = manifest.bin?.['rolloutctl'] ?? '';
  await mkdir(join(work, 'node_modules', '.bin'), { recursive: true });
  command = join(work, 'node_modules', '.bin', 'rolloutctl');
  await symlink(join(installed, binPath), command);
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the rolloutctl package', () => {
  it('is installable: not private, Apache-2.0, with a LICENSE and a rolloutctl bin of built JavaScript', async () => {
    expect(manifest.private).toBeUndefined();
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.bin).toEqual({ rolloutctl: 'dist/cli/rolloutctl.js' });
    const license = await readFile(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toContain('Apache License\n                           Version 2.0, January 2004');
    expect(license).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(license).toContain('Copyright 2026 The gcp-canary-controller authors');
  });

  it('packs the bin (executable), LICENSE, README, the schema and the docs, and no sources or tests', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'dist/cli/rolloutctl.js',
        'LICENSE',
        'README.md',
        'package.json',
        'schema/rollout-request.schema.json',
        'docs/cli.md',
      ]),
    );
    const bin = packed.files.find((f) => f.path === 'dist/cli/rolloutctl.js');
    expect((bin?.mode ?? 0) & 0o111).not.toBe(0);
    expect(
      paths.filter((p) => /^(cli|functions|test|local|node_modules|infra)\//.test(p) || p.endsWith('.ts')),
    ).toEqual([]);
  });

  it('ships one JavaScript file that starts with #!/usr/bin/env node and keeps npm packages external', async () => {
    const bin = await readFile(join(installed, 'dist', 'cli', 'rolloutctl.js'), 'utf8');
    expect(bin.split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(bin.match(/^#!/gm)).toHaveLength(1);
    expect(bin).toMatch(/from "@google-cloud\/firestore"/);
    expect(bin).not.toMatch(/(from |import\()"[^"]*\.ts"/);
    expect((await stat(join(installed, 'dist', 'cli', 'rolloutctl.js'))).size).toBeLessThan(1024 * 1024);
  });

  it('runs from node_modules/.bin: --help lists every command, a command prints its own help', async () => {
    const help = await rolloutctl(['--help'], work);
    expect(help.code).toBe(0);
    for (const name of ['validate', 'start', 'status', 'list', 'history', 'pause']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    }
    const history = await rolloutctl(['history', '--help'], work);
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/^usage: rolloutctl history /);
  });

  it('validates request files: 0 with the summary for a good one, 3 naming the field for a bad one', async () => {
    await writeFile(join(work, 'good.json'), JSON.stringify(requestInput()));
    await writeFile(join(work, 'bad.json'), JSON.stringify({ ...requestInput(), steps: [{ weight: 140 }] }));
    const good = await rolloutctl(['validate', '-f', 'good.json', '--json'], work);
    expect(good).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(good.stdout)).toEqual({ valid: true, steps: 2, routes: [requestInput().route] });
    const bad = await rolloutctl(['validate', '-f', 'bad.json'], work);
    expect(bad.code).toBe(3);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/steps\[0\]\.weight/);
  });
});
