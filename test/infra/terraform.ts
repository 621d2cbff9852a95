/**
 * Reading infra/ for the infra tests: every .tf file of a module parsed with @cdktf/hcl2json and
 * merged, the terraform binary (fmt, and `terraform console` to evaluate infra/locals.tf exactly
 * as Terraform would), and small helpers over the parsed JSON.
 *
 * hcl2json renders blocks as arrays of objects and every expression as a "${…}" string, e.g.
 * `for_each = local.functions` becomes "${local.functions}".
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from '@cdktf/hcl2json';

const run = promisify(execFile);

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const INFRA = join(REPO, 'infra');
export const EXAMPLE_MESH = join(INFRA, 'modules', 'example-mesh');

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Block = { readonly [key: string]: Json };

export interface Module {
  readonly dir: string;
  readonly files: readonly string[];
  /** "type.name" → the block. */
  readonly resources: ReadonlyMap<string, Block>;
  /** "type.name" → the block; includes the data sources scoped to `check` blocks. */
  readonly data: ReadonlyMap<string, Block>;
  /** Check name → the block (its scoped `data` and its `assert`s). */
  readonly checks: ReadonlyMap<string, Block>;
  readonly modules: ReadonlyMap<string, Block>;
  readonly variables: ReadonlyMap<string, Block>;
  readonly outputs: ReadonlyMap<string, Block>;
  /** Every locals block merged (values as hcl2json renders them). */
  readonly locals: Readonly<Record<string, Json>>;
  readonly terraform: readonly Block[];
  /** Every parsed file, for scans over all strings. */
  readonly parsed: readonly Json[];
}

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The single block hcl2json puts in a one-element array. */
function single(value: Json | undefined, what: string): Block {
  if (Array.isArray(value) && value.length === 1 && isObject(value[0])) return value[0];
  throw new Error(`${what}: expected exactly one block`);
}

function addOnce(into: Map<string, Block>, key: string, value: Json | undefined, dir: string): void {
  if (into.has(key)) throw new Error(`${key} is declared twice in ${dir}`);
  into.set(key, single(value, key));
}

/** Adds every `TYPE.NAME` block of a `resource` or `data` section to `into`. */
function addTyped(into: Map<string, Block>, byType: Json | undefined, dir: string): void {
  if (!isObject(byType)) return;
  for (const [type, byName] of Object.entries(byType)) {
    if (!isObject(byName)) continue;
    for (const [name, value] of Object.entries(byName)) addOnce(into, `${type}.${name}`, value, dir);
  }
}

export async function loadModule(dir: string): Promise<Module> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.tf')).sort();
  const resources = new Map<string, Block>();
  const data = new Map<string, Block>();
  const checks = new Map<string, Block>();
  const modules = new Map<string, Block>();
  const variables = new Map<string, Block>();
  const outputs = new Map<string, Block>();
  const locals: Record<string, Json> = {};
  const terraform: Block[] = [];
  const parsed: Json[] = [];
  for (const file of files) {
    const doc = (await parse(file, await readFile(join(dir, file), 'utf8'))) as Json;
    parsed.push(doc);
    if (!isObject(doc)) continue;
    addTyped(resources, doc['resource'], dir);
    addTyped(data, doc['data'], dir);
    for (const [kind, into] of [
      ['check', checks],
      ['module', modules],
      ['variable', variables],
      ['output', outputs],
    ] as const) {
      const byName = doc[kind];
      if (!isObject(byName)) continue;
      for (const [name, value] of Object.entries(byName)) addOnce(into, name, value, dir);
    }
    for (const block of Array.isArray(doc['locals']) ? doc['locals'] : []) {
      if (!isObject(block)) continue;
      for (const [name, value] of Object.entries(block)) {
        if (name in locals) throw new Error(`local.${name} is declared twice in ${dir}`);
        locals[name] = value;
      }
    }
    for (const block of Array.isArray(doc['terraform']) ? doc['terraform'] : []) {
      if (isObject(block)) terraform.push(block);
    }
  }
  // A check's scoped data sources are named like the module's own (data.TYPE.NAME, unique in it).
  for (const check of checks.values()) addTyped(data, check['data'], dir);
  return { dir, files, resources, data, checks, modules, variables, outputs, locals, terraform, parsed };
}

/** An expression as hcl2json renders it: "$" + "{expression}". */
export function hcl(expression: string): string {
  return ['$', '{', expression, '}'].join('');
}

export function variable(m: Module, name: string): Block {
  const block = m.variables.get(name);
  if (block === undefined) throw new Error(`variable ${name} is not declared in ${m.dir}`);
  return block;
}

/** The blocks under `key` (hcl2json makes every nested block an array). */
export function blocks(block: Block, key: string): Block[] {
  const value = block[key];
  if (!Array.isArray(value)) throw new Error(`${key}: expected blocks, got ${JSON.stringify(value)}`);
  return value.filter(isObject);
}

export function resource(m: Module, address: string): Block {
  const block = m.resources.get(address);
  if (block === undefined) throw new Error(`resource ${address} is not declared in ${m.dir}`);
  return block;
}

export function resourcesOfType(m: Module, type: string): [string, Block][] {
  return [...m.resources.entries()].filter(([address]) => address.startsWith(`${type}.`));
}

/** A nested block (`build_config`, `push_config`…): hcl2json makes it a one-element array. */
export function nested(block: Block, ...path: string[]): Block {
  let current: Block = block;
  for (const key of path) current = single(current[key], key);
  return current;
}

export function hasNested(block: Block, key: string): boolean {
  const value = block[key];
  return Array.isArray(value) && value.length > 0;
}

export function str(block: Block, key: string): string {
  const value = block[key];
  if (typeof value !== 'string') throw new Error(`${key}: expected a string, got ${JSON.stringify(value)}`);
  return value;
}

/** Every string anywhere in a parsed value (keys included), with its JSON path. */
export function* strings(value: Json, path = '$'): Generator<[string, string]> {
  if (typeof value === 'string') {
    yield [path, value];
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* strings(item, `${path}[${i}]`);
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      yield [`${path}.${key}`, key];
      yield* strings(item, `${path}.${key}`);
    }
  }
}

// --- terraform binary ----------------------------------------------------------------------------

let cliConfig: Promise<string> | null = null;

/** An empty CLI configuration, so terraform does not warn about a missing ~/.terraformrc. */
function emptyCliConfig(): Promise<string> {
  cliConfig ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tf-cli-'));
    const file = join(dir, 'terraformrc');
    await writeFile(file, '');
    return file;
  })();
  return cliConfig;
}

export class MissingTerraformError extends Error {
  constructor() {
    super(
      'the `terraform` binary was not found on PATH. The infra tests run `terraform fmt -check` and ' +
        '`terraform console` (no providers or network needed): install Terraform >= 1.9 ' +
        '(https://developer.hashicorp.com/terraform/install) and run the tests again.',
    );
    this.name = 'MissingTerraformError';
  }
}

export interface TerraformResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function terraform(
  args: readonly string[],
  options: { cwd: string; input?: string } = { cwd: INFRA },
): Promise<TerraformResult> {
  const env = {
    ...process.env,
    TF_CLI_CONFIG_FILE: await emptyCliConfig(),
    TF_IN_AUTOMATION: '1',
    CHECKPOINT_DISABLE: '1',
  };
  const child = run('terraform', [...args], { cwd: options.cwd, env, maxBuffer: 16 * 1024 * 1024 });
  if (options.input !== undefined) {
    child.child.stdin?.end(options.input);
  } else {
    child.child.stdin?.end();
  }
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new MissingTerraformError();
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * Evaluates `jsonencode(<expression>)` over infra/locals.tf alone with `terraform console`, so the
 * for-expressions there are computed by Terraform itself, not re-implemented here.
 */
export async function evaluateLocals<T>(
  expression: string,
  localsFile = join(INFRA, 'locals.tf'),
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tf-locals-'));
  try {
    await writeFile(join(dir, 'locals.tf'), await readFile(localsFile, 'utf8'));
    const result = await terraform(['console'], { cwd: dir, input: `jsonencode(${expression})\n` });
    if (result.code !== 0) {
      throw new Error(`terraform console failed on ${expression}:\n${result.stderr || result.stdout}`);
    }
    // The console prints the HCL string literal of the JSON text.
    const literal = result.stdout.trim().split('\n').at(-1) ?? '';
    return JSON.parse(JSON.parse(literal) as string) as T;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
