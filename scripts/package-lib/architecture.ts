/**
 * The architecture as checks that fail the build (test/unit/build/architecture.test.ts):
 *
 *   - product code (functions/, cli/) never imports the local cloud (local/);
 *   - the core (functions/core/) imports only the core and pure packages, and does no I/O: no
 *     `node:` modules, no clock, no randomness, no process, network or timers;
 *   - a function in functions/ fits on a screen (≤ 60 lines) and nests at most 4 blocks deep
 *     (if/for/while/switch/try, as ESLint's max-depth counts them, each function on its own).
 *
 * Every finding names the file, the line and what to do.
 */
import { dirname, join, normalize, relative } from 'node:path';
import { parseSync } from 'oxc-parser';

export const LIMITS = { functionLines: 60, depth: 4 } as const;

/** Packages the core may use: pure computation, no I/O. */
export const CORE_PACKAGES: readonly string[] = ['zod'];

/** Globals that read the clock, draw randomness or reach the world outside. */
const IMPURE_GLOBALS = new Set([
  'process',
  'Buffer',
  'fetch',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'queueMicrotask',
  'performance',
  'crypto',
  'console',
  'globalThis',
  'require',
  'XMLHttpRequest',
  'WebSocket',
]);

export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly problem: string;
}

type Node = { readonly type: string; readonly start: number; readonly end: number } & Record<string, unknown>;

const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
const BLOCKS = new Set([
  'IfStatement',
  'ForStatement',
  'ForInStatement',
  'ForOfStatement',
  'WhileStatement',
  'DoWhileStatement',
  'SwitchStatement',
  'TryStatement',
]);

function isNode(value: unknown): value is Node {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}

function children(node: Node): Node[] {
  const out: Node[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'type' || typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) out.push(...value.filter(isNode));
    else if (isNode(value)) out.push(value);
  }
  return out;
}

function walk(node: Node, visit: (n: Node, parent: Node | null) => void, parent: Node | null = null): void {
  visit(node, parent);
  for (const child of children(node)) walk(child, visit, node);
}

/** An identifier that names a property (`a.process`, `{ process: 1 }`), not a variable. */
function isPropertyName(n: Node, parent: Node | null): boolean {
  if (parent === null) return false;
  if (parent.type === 'MemberExpression') return parent['property'] === n && parent['computed'] !== true;
  const keyed = [
    'Property',
    'PropertyDefinition',
    'MethodDefinition',
    'TSPropertySignature',
    'TSMethodSignature',
  ];
  return keyed.includes(parent.type) && parent['key'] === n && parent['computed'] !== true;
}

function parse(file: string, source: string): Node {
  const result = parseSync(file, source);
  if (result.errors.length > 0) throw new Error(`${file}: ${result.errors[0]?.message ?? 'parse error'}`);
  return result.program as unknown as Node;
}

function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i += 1) if (source.charCodeAt(i) === 10) line += 1;
  return line;
}

/** Module specifiers a file imports or re-exports, statically or with import(). */
function specifiers(program: Node): { spec: string; at: number }[] {
  const out: { spec: string; at: number }[] = [];
  walk(program, (n) => {
    const kinds = ['ImportDeclaration', 'ExportNamedDeclaration', 'ExportAllDeclaration', 'ImportExpression'];
    if (!kinds.includes(n.type)) return;
    const source = n['source'];
    if (isNode(source) && typeof source['value'] === 'string')
      out.push({ spec: source['value'], at: n.start });
  });
  return out;
}

/** Where a relative specifier points, relative to the repository root; null for packages. */
function resolved(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return normalize(join(dirname(file), spec));
}

/** Product code must not import the local cloud. */
export function checkProductImports(file: string, source: string): Finding[] {
  return specifiers(parse(file, source)).flatMap(({ spec, at }) => {
    const target = resolved(file, spec);
    if (target === null || !(target === 'local' || target.startsWith('local/'))) return [];
    return [
      {
        file,
        line: lineAt(source, at),
        problem: `imports ${spec}: product code never imports local/ (move what both need into functions/)`,
      },
    ];
  });
}

function coreImportProblem(file: string, spec: string): string | null {
  const target = resolved(file, spec);
  if (target !== null) {
    return relative('functions/core', target).startsWith('..')
      ? `imports ${spec} from outside functions/core/ (the core depends on nothing but itself)`
      : null;
  }
  if (spec.startsWith('node:')) return `imports ${spec}: the core does no I/O`;
  const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);
  return CORE_PACKAGES.includes(name)
    ? null
    : `imports package ${spec}: only ${CORE_PACKAGES.join(', ')} are allowed`;
}

function impurity(n: Node, parent: Node | null): string | null {
  if (n.type === 'NewExpression' && isNode(n['callee']) && n['callee']['name'] === 'Date') {
    return (n['arguments'] as unknown[]).length === 0 ? 'reads the clock (new Date())' : null;
  }
  if (n.type === 'MemberExpression' && isNode(n['object']) && isNode(n['property'])) {
    const owner = n['object']['name'];
    const member = n['property']['name'];
    if (owner === 'Date' && member === 'now') return 'reads the clock (Date.now)';
    if (owner === 'Math' && member === 'random') return 'draws randomness (Math.random)';
  }
  const name = n['name'];
  if (
    n.type === 'Identifier' &&
    typeof name === 'string' &&
    IMPURE_GLOBALS.has(name) &&
    !isPropertyName(n, parent)
  ) {
    return `uses ${name}: the core does no I/O and reads no clock`;
  }
  return null;
}

/** The core imports only itself and pure packages, and reads no clock, randomness or world. */
export function checkCore(file: string, source: string): Finding[] {
  const program = parse(file, source);
  const findings: Finding[] = [];
  for (const { spec, at } of specifiers(program)) {
    const problem = coreImportProblem(file, spec);
    if (problem !== null) findings.push({ file, line: lineAt(source, at), problem });
  }
  walk(program, (n, parent) => {
    const problem = impurity(n, parent);
    if (problem !== null) findings.push({ file, line: lineAt(source, n.start), problem });
  });
  return findings;
}

/** Deepest block nesting inside one function body, not counting nested functions. */
function depthOf(node: Node, depth: number): number {
  let deepest = depth;
  for (const child of children(node)) {
    if (FUNCTIONS.has(child.type)) continue;
    // `else if` continues a chain; it does not nest (as ESLint's max-depth counts).
    const elseIf = node.type === 'IfStatement' && child === node['alternate'] && child.type === 'IfStatement';
    const next = BLOCKS.has(child.type) && !elseIf ? depth + 1 : depth;
    deepest = Math.max(deepest, depthOf(child, next));
  }
  return deepest;
}

function nameOf(n: Node, parent: Node | null): string {
  const id = n['id'];
  if (isNode(id) && typeof id['name'] === 'string') return id['name'];
  const key = parent?.['key'] ?? (parent?.['id'] as Node | undefined);
  return isNode(key) && typeof key['name'] === 'string' ? key['name'] : '(anonymous)';
}

/** Functions longer than LIMITS.functionLines or nested deeper than LIMITS.depth. */
export function checkFunctionSize(file: string, source: string): Finding[] {
  const findings: Finding[] = [];
  const visit = (n: Node, parent: Node | null): void => {
    if (FUNCTIONS.has(n.type)) {
      const first = lineAt(source, n.start);
      const lines = lineAt(source, n.end) - first + 1;
      const depth = depthOf(n['body'] as Node, 0);
      const name = nameOf(n, parent);
      if (lines > LIMITS.functionLines) {
        findings.push({
          file,
          line: first,
          problem: `${name} is ${lines} lines (at most ${LIMITS.functionLines}): split it`,
        });
      }
      if (depth > LIMITS.depth) {
        findings.push({
          file,
          line: first,
          problem: `${name} nests ${depth} deep (at most ${LIMITS.depth}): return early or extract`,
        });
      }
    }
    for (const child of children(n)) visit(child, n);
  };
  visit(parse(file, source), null);
  return findings;
}
