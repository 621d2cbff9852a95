/**
 * Bundles every entry point of functions/manifest.ts into dist/functions/<name>/ for Cloud Run
 * functions (nodejs22): ESM for Node 22, code splitting so the adapters functions/wiring.ts
 * imports lazily stay separate chunks loaded on first use, npm packages external. Next to each
 * bundle: a package.json with exactly the production dependencies that bundle imports (versions
 * from package-lock.json) and a package-lock.json pruned to them, which Cloud Build installs on
 * deploy. Terraform (infra/functions.tf) zips each folder.
 *
 *   node scripts/build.ts [--only <name>[,<name>…]] [--quiet]
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build as esbuild, type Metafile, type Plugin } from 'esbuild';
import { ENTRY_POINTS, type EntryPoint } from '../functions/manifest.ts';
import {
  functionPackageJson,
  importedPackages,
  type Lockfile,
  packageNameOf,
  productionDependencies,
  prunedLockfile,
  type RootManifest,
} from './package-lib/dependencies.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * npm packages bundled into the functions instead of installed: pure JavaScript that reads no
 * files at run time. zod is imported on every cold start (configuration, request and incident
 * schemas); bundled, it saves resolving and reading its ~100 modules one by one (measured with
 * bench/cold-start.ts: about 20–30 ms of a ~300 ms cold import).
 */
export const INLINED_PACKAGES: readonly string[] = ['zod'];

/** Keeps every npm package external except `inline` (Node built-ins are external anyway). */
function externalPackages(inline: readonly string[]): Plugin {
  return {
    name: 'external-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        const name = packageNameOf(args.path);
        if (name !== null && inline.includes(name)) return undefined;
        return { path: args.path, external: true };
      });
    },
  };
}

export const FUNCTIONS_DIST = join(ROOT, 'dist', 'functions');

export interface BuiltFunction {
  readonly name: string;
  readonly dir: string;
  /** The module functions-framework loads (package.json "main"). */
  readonly main: string;
  readonly files: readonly string[];
  readonly bytes: number;
  readonly dependencies: Readonly<Record<string, string>>;
}

export interface BuildOptions {
  readonly only?: readonly string[];
  readonly outDir?: string;
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

function entryOutputOf(metafile: Metafile, outDir: string): string {
  const entry = Object.entries(metafile.outputs).find(([, output]) => output.entryPoint !== undefined);
  if (entry === undefined) throw new Error(`esbuild produced no entry output in ${outDir}`);
  return entry[0];
}

async function buildOne(
  ep: EntryPoint,
  outRoot: string,
  root: RootManifest & { readonly version?: string },
  lock: Lockfile,
): Promise<BuiltFunction> {
  const dir = join(outRoot, ep.name);
  await rm(dir, { recursive: true, force: true });
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: { index: join(ROOT, ep.source) },
    outdir: dir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    plugins: [externalPackages(INLINED_PACKAGES)],
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
  });
  const metafile = result.metafile;
  const entryOutput = entryOutputOf(metafile, dir);
  const dependencies = productionDependencies(importedPackages(metafile, entryOutput), root, lock);
  const packageName = `canary-controller-${ep.name.toLowerCase()}`;
  const version = root.version ?? '0.0.0';
  const nodeEngine = root.engines?.['node'] ?? '22';
  await writeFile(
    join(dir, 'package.json'),
    `${JSON.stringify(functionPackageJson(packageName, version, dependencies, nodeEngine), null, 2)}\n`,
  );
  await writeFile(
    join(dir, 'package-lock.json'),
    `${JSON.stringify(prunedLockfile(lock, packageName, version, dependencies), null, 2)}\n`,
  );
  // Metafile paths are relative to absWorkingDir.
  const outputs = Object.keys(metafile.outputs).map((file) => relative(dir, join(ROOT, file)));
  const files = [...outputs, 'package.json', 'package-lock.json'].sort();
  let bytes = 0;
  for (const file of files) bytes += (await stat(join(dir, file))).size;
  return { name: ep.name, dir, main: join(dir, 'index.js'), files, bytes, dependencies };
}

/** Builds the selected entry points (all by default). */
export async function buildFunctions(options: BuildOptions = {}): Promise<BuiltFunction[]> {
  const selected = options.only ? ENTRY_POINTS.filter((ep) => options.only?.includes(ep.name)) : ENTRY_POINTS;
  const unknown = (options.only ?? []).filter((name) => !ENTRY_POINTS.some((ep) => ep.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown entry point(s): ${unknown.join(', ')}; known: ${ENTRY_POINTS.map((e) => e.name).join(', ')}`,
    );
  }
  const outRoot = options.outDir ?? FUNCTIONS_DIST;
  await mkdir(outRoot, { recursive: true });
  const root = await readJson<RootManifest & { readonly version?: string }>(join(ROOT, 'package.json'));
  const lock = await readJson<Lockfile>(join(ROOT, 'package-lock.json'));
  const built: BuiltFunction[] = [];
  for (const ep of selected) built.push(await buildOne(ep, outRoot, root, lock));
  return built;
}

/** Whether every entry point has a built bundle. */
export async function isBuilt(outDir: string = FUNCTIONS_DIST): Promise<boolean> {
  for (const ep of ENTRY_POINTS) {
    try {
      await stat(join(outDir, ep.name, 'index.js'));
      await stat(join(outDir, ep.name, 'package.json'));
    } catch {
      return false;
    }
  }
  return true;
}

function formatKiB(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, quiet: { type: 'boolean', default: false } },
    strict: true,
  });
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const built = await buildFunctions(only ? { only } : {});
  if (values.quiet) return;
  const rows = built.map((b) => [
    b.name,
    String(b.files.filter((f) => f.endsWith('.js')).length),
    formatKiB(b.bytes),
    Object.entries(b.dependencies)
      .map(([name, version]) => `${name}@${version}`)
      .join(' '),
  ]);
  const header = ['function', 'js files', 'size', 'dependencies (installed by Cloud Build)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  console.log(`built ${built.length} function(s) into ${relative(process.cwd(), FUNCTIONS_DIST) || '.'}`);
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`build failed: ${message}`);
    process.exitCode = 1;
  });
}
