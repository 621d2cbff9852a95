/**
 * infra/ as Terraform would read it, without providers or network (`terraform validate` needs
 * both): pinned providers, and every reference resolves to a declaration.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Block,
  EXAMPLE_MESH,
  INFRA,
  type Json,
  loadModule,
  type Module,
  nested,
  strings,
} from './terraform.ts';

let root: Module;
let mesh: Module;

beforeAll(async () => {
  [root, mesh] = await Promise.all([loadModule(INFRA), loadModule(EXAMPLE_MESH)]);
});

/** Every reference in the "${…}" expressions of a module that must resolve inside it. */
function references(m: Module): { path: string; ref: string }[] {
  const found: { path: string; ref: string }[] = [];
  for (const doc of m.parsed) {
    for (const [path, text] of strings(doc as Json)) {
      if (!text.includes('$' + '{')) continue;
      // Only what is inside interpolations; quoted strings within them are skipped by the patterns.
      const patterns = [
        /(?<![\w.])(var|local)\.([A-Za-z_][\w-]*)/g,
        /(?<![\w.])module\.([A-Za-z_][\w-]*)(?:\[[^\]]*\])?\.([A-Za-z_][\w-]*)/g,
        /(?<![\w.])data\.([a-z][\w]*)\.([A-Za-z_][\w-]*)/g,
        /(?<![\w."])((?:google|archive|time)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)/g,
      ];
      for (const pattern of patterns) {
        for (const match of text.matchAll(pattern)) {
          // A resource type right after "data." is a data reference, handled above.
          if (
            pattern === patterns[3] &&
            text.slice(Math.max(0, (match.index ?? 0) - 5), match.index) === 'data.'
          ) {
            continue;
          }
          found.push({ path, ref: pattern === patterns[0] ? `${match[1]}.${match[2]}` : match[0] });
        }
      }
    }
  }
  return found;
}

async function unresolved(m: Module): Promise<string[]> {
  const problems: string[] = [];
  const childOutputs = new Map<string, Set<string>>();
  for (const [name, call] of m.modules) {
    const child = await loadModule(join(m.dir, String(call['source'])));
    childOutputs.set(name, new Set(child.outputs.keys()));
  }
  for (const { path, ref } of references(m)) {
    const [kind, a, b] = ref.split('.');
    let ok: boolean;
    if (kind === 'var') ok = m.variables.has(a ?? '');
    else if (kind === 'local') ok = a !== undefined && a in m.locals;
    else if (kind === 'data') ok = m.data.has(`${a}.${b}`);
    else if (ref.startsWith('module.')) {
      const match = /^module\.([\w-]+)(?:\[[^\]]*\])?\.([\w-]+)$/.exec(ref);
      ok = match !== null && (childOutputs.get(match[1] ?? '')?.has(match[2] ?? '') ?? false);
    } else ok = m.resources.has(`${kind}.${a}`);
    if (!ok) problems.push(`${path}: ${ref}`);
  }
  return problems;
}

describe('providers', () => {
  it('pins google, google-beta, archive and time to exact versions', () => {
    const providers = nested(root.terraform[0] as Block, 'required_providers');
    expect(providers['google']).toEqual({
      source: 'hashicorp/google',
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
    });
    expect(providers['google-beta']).toEqual({
      source: 'hashicorp/google-beta',
      version: (providers['google'] as Block)['version'],
    });
    expect(providers['archive']).toEqual({
      source: 'hashicorp/archive',
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
    });
    expect(providers['time']).toEqual({
      source: 'hashicorp/time',
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
    });
  });

  it('the example module declares the providers it uses (versions come from the root)', () => {
    const providers = nested(mesh.terraform[0] as Block, 'required_providers');
    expect(Object.keys(providers).sort()).toEqual(['google', 'google-beta', 'time']);
  });
});

describe('references', () => {
  it('every var., local., data., module. and resource reference in infra/ resolves', async () => {
    expect(await unresolved(root)).toEqual([]);
  });

  it('…and in infra/modules/example-mesh', async () => {
    expect(await unresolved(mesh)).toEqual([]);
  });

  it('infra/locals.tf stands alone (the tests evaluate it without the rest)', async () => {
    const text = await readFile(join(INFRA, 'locals.tf'), 'utf8');
    const code = text.replace(/#.*$/gm, '');
    expect(code).not.toMatch(/\b(var|data|module|path)\.|\bgoogle_\w+\./);
  });

  it('every variable is used and documented in terraform.tfvars.example or has a default', async () => {
    const example = await readFile(join(INFRA, 'terraform.tfvars.example'), 'utf8');
    const used = new Set(references(root).map((r) => r.ref));
    for (const [name, block] of root.variables) {
      expect(used.has(`var.${name}`), `var.${name} is never used`).toBe(true);
      expect(typeof block['description'], `var.${name} has no description`).toBe('string');
      if (!('default' in block))
        expect(example, `var.${name} is required`).toMatch(new RegExp(`^${name}\\s*=`, 'm'));
    }
  });
});
