/**
 * The architecture, checked on every build: the product never imports the local cloud, the core
 * imports nothing outside itself and does no I/O, and functions stay small and shallow. Each
 * check is first shown to catch what it is for, then run over the repository.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkCore,
  checkFunctionSize,
  checkProductImports,
  type Finding,
} from '../../../scripts/package-lib/architecture.ts';

function tracked(...patterns: string[]): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', ...patterns], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f.endsWith('.ts'));
}

function over(files: readonly string[], check: (file: string, source: string) => Finding[]): string[] {
  return files.flatMap((f) =>
    check(f, readFileSync(f, 'utf8')).map((x) => `${x.file}:${x.line} ${x.problem}`),
  );
}

describe('product code and the local cloud', () => {
  it('catches an import of local/, static or dynamic, and allows the rest', () => {
    const source = [
      "import { x } from '../../local/mesh/proxy.ts';",
      "export { y } from '../../local/cloud.ts';",
      "const z = await import('../../local/net.ts');",
      "import { ok } from '../core/state.ts';",
      "import { z as zod } from 'zod';",
    ].join('\n');
    expect(checkProductImports('functions/app/x.ts', source).map((f) => f.line)).toEqual([1, 2, 3]);
    expect(checkProductImports('cli/x.ts', "import '../local/cloud.ts';")).toHaveLength(1);
  });

  it('functions/ and cli/ never import local/', () => {
    expect(over(tracked('functions', 'cli'), checkProductImports)).toEqual([]);
  });
});

describe('the pure core', () => {
  it('catches imports from outside the core, node: modules, other packages and impure globals', () => {
    const source = [
      "import { a } from '../app/config.ts';",
      "import { readFile } from 'node:fs';",
      "import { b } from '@google-cloud/firestore';",
      "import { ok } from './state.ts';",
      "import { fine } from './analysis/verdict.ts';",
      "import { z } from 'zod';",
      'const t = Date.now();',
      'const d = new Date();',
      'const f = new Date(0).toISOString();',
      'const r = Math.random();',
      'setTimeout(() => {}, 1);',
      'const e = process.env;',
      'const p = { process: 1 }.process;',
    ].join('\n');
    expect(checkCore('functions/core/x.ts', source).map((f) => f.line)).toEqual([1, 2, 3, 7, 8, 10, 11, 12]);
  });

  it('functions/core imports nothing outside itself and does no I/O', () => {
    expect(over(tracked('functions/core'), checkCore)).toEqual([]);
  });
});

describe('function size', () => {
  it('catches a long function and one nested five deep, but not an else-if chain', () => {
    const long = `function long() {\n${'  call();\n'.repeat(61)}}`;
    const deep =
      'function deep(a) { if (a) { for (;;) { while (a) { switch (a) { case 1: try { x(); } catch {} } } } } }';
    const chain =
      'function chain(a) { if (a) {} else if (b) {} else if (c) { if (d) { if (e) { if (f) {} } } } }';
    expect(checkFunctionSize('x.ts', long).map((f) => f.problem)).toEqual([
      expect.stringMatching(/long is 63 lines/),
    ]);
    expect(checkFunctionSize('x.ts', deep).map((f) => f.problem)).toEqual([
      expect.stringMatching(/deep nests 5 deep/),
    ]);
    expect(checkFunctionSize('x.ts', chain)).toEqual([]);
  });

  it('no function in functions/ is longer than 60 lines or nested deeper than 4', () => {
    expect(over(tracked('functions'), checkFunctionSize)).toEqual([]);
  });
});
