/**
 * scripts/build.ts on the real entry points: one self-contained folder per function, the lazily
 * imported adapters kept as chunks outside the entry bundle, and a package.json with exactly the
 * production dependencies the bundle imports.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRY_POINTS } from '../../functions/manifest.ts';
import { type BuiltFunction, buildFunctions, INLINED_PACKAGES } from '../../scripts/build.ts';
import { REPO } from './terraform.ts';

const LAZY_ADAPTERS = [
  'route-router',
  'cloud-monitoring-metrics',
  'workflow-executions',
  'pubsub-publisher',
  'http-hook-caller',
  'cloud-identity-groups',
];

let out: string;
let built: BuiltFunction[];

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'canary-build-'));
  built = await buildFunctions({ outDir: out });
});

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('scripts/build.ts', () => {
  it('builds every entry point of the manifest into its own folder', () => {
    expect(built.map((b) => b.name).sort()).toEqual(ENTRY_POINTS.map((ep) => ep.name).sort());
    for (const b of built) expect(b.dir).toBe(join(out, b.name));
  });

  it('writes an ESM package.json whose main is the bundle and whose dependencies are pinned production dependencies', async () => {
    const root = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      engines: { node: string };
    };
    for (const b of built) {
      const pkg = JSON.parse(await readFile(join(b.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      expect(pkg['type'], b.name).toBe('module');
      expect(pkg['main'], b.name).toBe('index.js');
      expect(pkg['engines'], b.name).toEqual({ node: root.engines.node });
      const deps = pkg['dependencies'] as Record<string, string>;
      expect(deps['@google-cloud/functions-framework'], b.name).toBe(
        root.dependencies['@google-cloud/functions-framework'],
      );
      for (const [name, version] of Object.entries(deps)) {
        expect(root.dependencies[name], `${b.name}: ${name}`).toBe(version);
        expect(INLINED_PACKAGES, `${b.name}: ${name}`).not.toContain(name);
      }
      const lock = JSON.parse(await readFile(join(b.dir, 'package-lock.json'), 'utf8')) as {
        packages: Record<string, { dependencies?: Record<string, string> }>;
      };
      expect(lock.packages['']?.dependencies, b.name).toEqual(deps);
    }
  });

  it('keeps the lazily imported adapters out of the entry bundle, as chunks loaded on first use', async () => {
    for (const b of built) {
      const entry = await readFile(join(b.dir, 'index.js'), 'utf8');
      const chunks = await readdir(join(b.dir, 'chunks'));
      for (const adapter of LAZY_ADAPTERS) {
        const chunk = chunks.find((c) => c.startsWith(`${adapter}-`) && c.endsWith('.js'));
        expect(chunk, `${b.name}: ${adapter} chunk`).toBeDefined();
        expect(entry, `${b.name}: import() of ${adapter}`).toContain(`import("./chunks/${chunk}")`);
      }
      // No Google client other than Firestore (created eagerly) and functions-framework is
      // imported statically by the entry bundle.
      const staticImports = [...entry.matchAll(/^import\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]);
      for (const specifier of staticImports) {
        expect(specifier, b.name).not.toMatch(/^(googleapis|@google-cloud\/(monitoring|pubsub))/);
      }
    }
  });
});
