/**
 * What a function bundle needs installed next to it. The bundles keep every npm package external
 * (Google's client libraries read proto and JSON files from their package directories at run
 * time), so each function ships a package.json naming exactly the production dependencies its
 * bundle imports — pinned to the versions in the repository's package-lock.json — and a
 * package-lock.json pruned to those dependencies' installed tree, so Cloud Build installs what
 * the tests ran against.
 *
 * Everything here is pure: inputs are esbuild's metafile and the parsed package.json/lockfile.
 */
import { isBuiltin } from 'node:module';
import type { Metafile } from 'esbuild';

/** The subset of a package-lock.json (lockfileVersion 2 or 3) this module reads and writes. */
export interface LockPackage {
  readonly version?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
  readonly dev?: boolean;
  readonly optional?: boolean;
  readonly devOptional?: boolean;
  readonly link?: boolean;
  readonly [field: string]: unknown;
}

export interface Lockfile {
  readonly name?: string;
  readonly version?: string;
  readonly lockfileVersion: number;
  readonly requires?: boolean;
  readonly packages: Readonly<Record<string, LockPackage>>;
}

export interface RootManifest {
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly engines?: Readonly<Record<string, string>>;
}

export class DependencyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DependencyError';
  }
}

/**
 * The npm package an import specifier names (`@scope/name` or `name`), or null for Node
 * built-ins and anything that is not a bare specifier.
 */
export function packageNameOf(specifier: string): string | null {
  if (specifier === '' || isBuiltin(specifier)) return null;
  if (specifier.startsWith('.') || specifier.startsWith('/') || /^[a-z][a-z0-9+.-]*:/i.test(specifier)) {
    return null;
  }
  const parts = specifier.split('/');
  if (specifier.startsWith('@')) {
    const [scope, name] = parts;
    return scope && name ? `${scope}/${name}` : null;
  }
  return parts[0] ?? null;
}

/**
 * Every output file reachable from an entry output (static imports and the chunks its lazy
 * `import()`s load), in the order first reached.
 */
export function reachableOutputs(metafile: Metafile, entryOutput: string): string[] {
  if (!(entryOutput in metafile.outputs)) {
    throw new DependencyError(`${entryOutput} is not an output of this build`);
  }
  const seen = new Set<string>([entryOutput]);
  const queue = [entryOutput];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const imported of metafile.outputs[next]?.imports ?? []) {
      if (imported.external || seen.has(imported.path)) continue;
      if (imported.path in metafile.outputs) {
        seen.add(imported.path);
        queue.push(imported.path);
      }
    }
  }
  return [...seen];
}

/** npm packages imported by an entry output and every chunk it can load, sorted. */
export function importedPackages(metafile: Metafile, entryOutput: string): string[] {
  const packages = new Set<string>();
  for (const output of reachableOutputs(metafile, entryOutput)) {
    for (const imported of metafile.outputs[output]?.imports ?? []) {
      if (!imported.external) continue;
      const name = packageNameOf(imported.path);
      if (name !== null) packages.add(name);
    }
  }
  return [...packages].sort();
}

/**
 * Exact versions, from the lockfile, of the packages a bundle imports. Each must be a production
 * dependency of the repository: importing a devDependency or a package that only arrives
 * transitively would deploy something the repository does not promise to install.
 */
export function productionDependencies(
  packages: Iterable<string>,
  root: RootManifest,
  lock: Lockfile,
): Record<string, string> {
  const result: Record<string, string> = {};
  const problems: string[] = [];
  for (const name of [...packages].sort()) {
    if (!root.dependencies || !(name in root.dependencies)) {
      const where = root.devDependencies && name in root.devDependencies ? 'a devDependency' : 'not declared';
      problems.push(`${name} is ${where} in package.json; production code may import only "dependencies"`);
      continue;
    }
    const version = lock.packages[`node_modules/${name}`]?.version;
    if (version === undefined) {
      problems.push(`${name} is missing from package-lock.json; run npm install`);
      continue;
    }
    result[name] = version;
  }
  if (problems.length > 0) throw new DependencyError(problems.join('\n'));
  return result;
}

/** Where Node would find `name` when required from the package installed at `from` ("" = root). */
export function resolveInLock(lock: Lockfile, from: string, name: string): string | null {
  let base = from;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (candidate in lock.packages) return candidate;
    if (base === '') return null;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut === -1 ? '' : base.slice(0, cut);
  }
}

function requiredEdges(entry: LockPackage): { name: string; optional: boolean }[] {
  const edges: { name: string; optional: boolean }[] = [];
  for (const name of Object.keys(entry.dependencies ?? {})) edges.push({ name, optional: false });
  for (const name of Object.keys(entry.optionalDependencies ?? {})) edges.push({ name, optional: true });
  for (const name of Object.keys(entry.peerDependencies ?? {})) {
    edges.push({ name, optional: entry.peerDependenciesMeta?.[name]?.optional === true });
  }
  return edges;
}

/**
 * A lockfile for a package that depends on exactly `dependencies`: the repository lock's entries
 * for those packages and everything they need, at the same paths and versions.
 */
export function prunedLockfile(
  lock: Lockfile,
  name: string,
  version: string,
  dependencies: Readonly<Record<string, string>>,
): Lockfile {
  const keep = new Set<string>();
  const queue: string[] = [];
  for (const dep of Object.keys(dependencies)) {
    const path = resolveInLock(lock, '', dep);
    if (path === null) throw new DependencyError(`${dep} is missing from package-lock.json`);
    if (!keep.has(path)) {
      keep.add(path);
      queue.push(path);
    }
  }
  for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
    const entry = lock.packages[path];
    if (entry === undefined) continue;
    for (const edge of requiredEdges(entry)) {
      const target = resolveInLock(lock, path, edge.name);
      if (target === null) {
        if (edge.optional) continue;
        throw new DependencyError(`${path} needs ${edge.name}, which package-lock.json does not contain`);
      }
      if (!keep.has(target)) {
        keep.add(target);
        queue.push(target);
      }
    }
  }
  const packages: Record<string, LockPackage> = {
    '': { name, version, dependencies: { ...dependencies } },
  };
  for (const path of [...keep].sort()) {
    const entry = lock.packages[path];
    if (entry === undefined) continue;
    // Dev flags describe the repository's tree; in this tree everything kept is production.
    const { dev: _dev, devOptional, ...rest } = entry;
    packages[path] = devOptional ? { ...rest, optional: true } : rest;
  }
  return { name, version, lockfileVersion: lock.lockfileVersion, requires: true, packages };
}

/** The package.json of one deployed function. */
export function functionPackageJson(
  name: string,
  version: string,
  dependencies: Readonly<Record<string, string>>,
  nodeEngine: string,
): Record<string, unknown> {
  return {
    name,
    version,
    private: true,
    description: 'Generated by scripts/build.ts; do not edit.',
    type: 'module',
    main: 'index.js',
    engines: { node: nodeEngine },
    dependencies: { ...dependencies },
  };
}
