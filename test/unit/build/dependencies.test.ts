import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import {
  DependencyError,
  functionPackageJson,
  importedPackages,
  type Lockfile,
  packageNameOf,
  productionDependencies,
  prunedLockfile,
  reachableOutputs,
  resolveInLock,
} from '../../../scripts/package-lib/dependencies.ts';

type Output = Metafile['outputs'][string];

function output(imports: Output['imports'], entryPoint?: string): Output {
  return { bytes: 1, inputs: {}, imports, exports: [], ...(entryPoint ? { entryPoint } : {}) };
}

/** An entry that statically imports a shared chunk and lazily loads an adapter chunk; another entry's chunk is unrelated. */
const metafile: Metafile = {
  inputs: {},
  outputs: {
    'dist/f/index.js': output(
      [
        { path: 'dist/f/chunks/shared.js', kind: 'import-statement' },
        { path: 'dist/f/chunks/adapter.js', kind: 'dynamic-import' },
        { path: '@google-cloud/functions-framework', kind: 'import-statement', external: true },
        { path: 'node:crypto', kind: 'import-statement', external: true },
      ],
      'functions/entry/f.ts',
    ),
    'dist/f/chunks/shared.js': output([
      { path: '@google-cloud/firestore', kind: 'import-statement', external: true },
      { path: 'fs', kind: 'import-statement', external: true },
    ]),
    'dist/f/chunks/adapter.js': output([
      {
        path: 'googleapis/build/src/apis/networkservices/index.js',
        kind: 'import-statement',
        external: true,
      },
      { path: 'dist/f/chunks/shared.js', kind: 'import-statement' },
    ]),
    'dist/f/chunks/unused.js': output([
      { path: '@google-cloud/monitoring', kind: 'import-statement', external: true },
    ]),
  },
};

const lock: Lockfile = {
  name: 'repo',
  lockfileVersion: 3,
  requires: true,
  packages: {
    '': {
      name: 'repo',
      dependencies: { a: '1.0.0', c: '1.0.0', unused: '1.0.0' },
      devDependencies: { d: '1' },
    },
    'node_modules/a': { version: '1.0.0', dependencies: { b: '^2' }, optionalDependencies: { native: '^1' } },
    'node_modules/a/node_modules/b': { version: '2.1.0', peerDependencies: { p: '^1' } },
    'node_modules/b': { version: '1.5.0' },
    'node_modules/c': {
      version: '1.0.0',
      dependencies: { b: '^1' },
      peerDependencies: { q: '^1' },
      peerDependenciesMeta: { q: { optional: true } },
    },
    'node_modules/p': { version: '1.2.0', peer: true, devOptional: true },
    'node_modules/unused': { version: '1.0.0' },
    'node_modules/d': { version: '1.0.0', dev: true },
  },
};

describe('packageNameOf', () => {
  it.each([
    ['@google-cloud/firestore', '@google-cloud/firestore'],
    ['@google-cloud/firestore/build/src/index.js', '@google-cloud/firestore'],
    ['googleapis/build/src/apis/networkservices/index.js', 'googleapis'],
    ['zod', 'zod'],
    ['zod/v4', 'zod'],
  ])('%s → %s', (specifier, name) => {
    expect(packageNameOf(specifier)).toBe(name);
  });

  it.each([
    'node:fs',
    'fs',
    'fs/promises',
    './chunk.js',
    '../x.js',
    '/abs/x.js',
    'file:///x.js',
    '@scope',
    '',
  ])('%s is not an npm package', (specifier) => {
    expect(packageNameOf(specifier)).toBeNull();
  });
});

describe('what a bundle imports', () => {
  it('follows static imports and lazy chunks from the entry, not other chunks', () => {
    expect(reachableOutputs(metafile, 'dist/f/index.js')).toEqual([
      'dist/f/index.js',
      'dist/f/chunks/shared.js',
      'dist/f/chunks/adapter.js',
    ]);
  });

  it('lists the npm packages of every reachable output, without built-ins, sorted', () => {
    expect(importedPackages(metafile, 'dist/f/index.js')).toEqual([
      '@google-cloud/firestore',
      '@google-cloud/functions-framework',
      'googleapis',
    ]);
  });

  it('refuses an output the build did not produce', () => {
    expect(() => reachableOutputs(metafile, 'dist/g/index.js')).toThrow(DependencyError);
  });
});

describe('productionDependencies', () => {
  const root = { dependencies: { a: '1.0.0', c: '1.0.0' }, devDependencies: { d: '1.0.0' } };

  it('pins each imported package to the version installed by the lockfile', () => {
    expect(productionDependencies(['c', 'a'], root, lock)).toEqual({ a: '1.0.0', c: '1.0.0' });
  });

  it('refuses devDependencies and undeclared packages, naming each', () => {
    expect(() => productionDependencies(['a', 'd', 'b'], root, lock)).toThrow(
      /b is not declared in package\.json[\s\S]*d is a devDependency/,
    );
  });

  it('refuses a dependency the lockfile does not have', () => {
    const withX = { dependencies: { ...root.dependencies, x: '1.0.0' } };
    expect(() => productionDependencies(['x'], withX, lock)).toThrow(/x is missing from package-lock\.json/);
  });
});

describe('prunedLockfile', () => {
  it('resolves like Node: nested copies first, then the parent node_modules', () => {
    expect(resolveInLock(lock, 'node_modules/a', 'b')).toBe('node_modules/a/node_modules/b');
    expect(resolveInLock(lock, 'node_modules/c', 'b')).toBe('node_modules/b');
    expect(resolveInLock(lock, 'node_modules/a/node_modules/b', 'p')).toBe('node_modules/p');
    expect(resolveInLock(lock, '', 'nothing')).toBeNull();
  });

  it('keeps exactly the tree the dependencies need, with their paths and versions', () => {
    const pruned = prunedLockfile(lock, 'fn', '0.1.0', { a: '1.0.0', c: '1.0.0' });
    expect(pruned.lockfileVersion).toBe(3);
    expect(pruned.packages['']).toEqual({
      name: 'fn',
      version: '0.1.0',
      dependencies: { a: '1.0.0', c: '1.0.0' },
    });
    expect(Object.keys(pruned.packages).sort()).toEqual([
      '',
      'node_modules/a',
      'node_modules/a/node_modules/b',
      'node_modules/b',
      'node_modules/c',
      'node_modules/p',
    ]);
    expect(pruned.packages['node_modules/a/node_modules/b']?.version).toBe('2.1.0');
    expect(pruned.packages['node_modules/b']?.version).toBe('1.5.0');
  });

  it('drops the repository’s dev flags (devOptional becomes optional)', () => {
    const pruned = prunedLockfile(lock, 'fn', '0.1.0', { a: '1.0.0' });
    expect(pruned.packages['node_modules/p']).toEqual({ version: '1.2.0', peer: true, optional: true });
  });

  it('skips optional dependencies the lockfile does not have, and fails on required ones', () => {
    expect(() => prunedLockfile(lock, 'fn', '0.1.0', { a: '1.0.0' })).not.toThrow();
    const broken: Lockfile = {
      ...lock,
      packages: { ...lock.packages, 'node_modules/c': { version: '1.0.0', dependencies: { gone: '^1' } } },
    };
    expect(() => prunedLockfile(broken, 'fn', '0.1.0', { c: '1.0.0' })).toThrow(/needs gone/);
  });
});

describe('against the repository lockfile', () => {
  it('pins the function dependencies to package-lock.json and prunes a consistent tree', async () => {
    const repo = join(import.meta.dirname, '..', '..', '..');
    const real = JSON.parse(await readFile(join(repo, 'package-lock.json'), 'utf8')) as Lockfile;
    const root = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const deps = productionDependencies(
      ['@google-cloud/firestore', '@google-cloud/functions-framework'],
      root,
      real,
    );
    expect(deps['@google-cloud/firestore']).toBe(
      real.packages['node_modules/@google-cloud/firestore']?.version,
    );
    const pruned = prunedLockfile(real, 'fn', '0.0.0', deps);
    for (const [path, entry] of Object.entries(pruned.packages)) {
      if (path === '') continue;
      expect(entry.dev, path).toBeUndefined();
      expect(entry.version, path).toBe(real.packages[path]?.version);
    }
    // Nothing of the monitoring or googleapis trees is needed for these two.
    expect(Object.keys(pruned.packages)).not.toContain('node_modules/googleapis');
    expect(Object.keys(pruned.packages)).not.toContain('node_modules/@google-cloud/monitoring');
  });
});

describe('functionPackageJson', () => {
  it('is an ESM package whose main is the bundle, with only the given dependencies', () => {
    expect(
      functionPackageJson('canary-controller-onalert', '0.1.0', { zod: '4.6.7' }, '>=22.12 <23'),
    ).toEqual({
      name: 'canary-controller-onalert',
      version: '0.1.0',
      private: true,
      description: 'Generated by scripts/build.ts; do not edit.',
      type: 'module',
      main: 'index.js',
      engines: { node: '>=22.12 <23' },
      dependencies: { zod: '4.6.7' },
    });
  });
});
