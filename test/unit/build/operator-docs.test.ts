/**
 * The operator's documents stay true to the code: the day-2 runbook has a row for every pause
 * reason and every route problem the core can produce, every test file the README and the guides
 * cite as evidence exists, and their links lead to a file and heading that exist.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const read = (path: string) => readFileSync(join(REPO, path), 'utf8');

const GUIDES = ['README.md', 'docs/onboarding.md', 'docs/operating.md', 'docs/deploy.md'];

/** The `kind` of every member of a union type declared in functions/core/state.ts. */
function kindsOf(union: string): string[] {
  const source = read('functions/core/state.ts');
  const start = source.indexOf(`export type ${union} =`);
  expect(start, `${union} is declared in state.ts`).toBeGreaterThanOrEqual(0);
  // The union runs to the first blank line after its declaration.
  const body = source.slice(start, source.indexOf('\n\n', start));
  const kinds = [...body.matchAll(/readonly kind: '([A-Za-z]+)'/g)].map((m) => m[1] ?? '');
  expect(kinds.length, `${union} has members`).toBeGreaterThan(1);
  return kinds;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = /^#{1,6} (.+)$/.exec(line);
    if (!fenced && heading) anchors.add(slug(heading[1] ?? ''));
  }
  return anchors;
}

describe('docs/operating.md runbook', () => {
  const operating = read('docs/operating.md');

  it.each(kindsOf('PauseReason'))('has a row for the pause reason %s', (kind) => {
    expect(operating).toContain(`| \`${kind}\` |`);
  });

  it.each(kindsOf('RouteProblem'))('has a row for the ActionRequired problem %s', (kind) => {
    expect(operating).toContain(`| \`${kind}\` |`);
  });

  it('has a failure-mode row for each Google service the controller depends on', () => {
    for (const service of [
      'Firestore',
      'Cloud Monitoring',
      'Network Services',
      'Workflows',
      'Pub/Sub',
      'Cloud Scheduler',
    ]) {
      expect(operating, service).toMatch(new RegExp(`^\\| \\*\\*${service.replace('/', '\\/')}\\*\\*`, 'm'));
    }
  });
});

describe('evidence and links in the README and the guides', () => {
  it.each(GUIDES)('%s cites only test files that exist', (guide) => {
    const text = read(guide);
    const cited = [...text.matchAll(/`(test\/[\w./-]+\.test\.ts)`/g)].map((m) => m[1] ?? '');
    for (const path of cited) expect(existsSync(join(REPO, path)), `${guide} cites ${path}`).toBe(true);
    // Bare names after a cited directory ("`test/e2e/delivery.test.ts`, `races.test.ts`") too.
    const bare = [...text.matchAll(/`([\w-]+\.test\.ts)`/g)].map((m) => m[1] ?? '');
    for (const name of bare) {
      const found = ['test/e2e', 'test/unit/app', 'test/contract', 'test/infra'].some((dir) =>
        existsSync(join(REPO, dir, name)),
      );
      expect(found, `${guide} cites ${name}`).toBe(true);
    }
  });

  it.each(['README.md', 'docs/onboarding.md', 'docs/operating.md'])(
    '%s links to files and headings that exist',
    (guide) => {
      const text = read(guide);
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1] ?? '';
        if (/^https?:/.test(target)) continue;
        const [file = '', anchor] = target.split('#');
        const path = file === '' ? join(REPO, guide) : resolve(dirname(join(REPO, guide)), file);
        expect(existsSync(path), `${guide} → ${target}`).toBe(true);
        if (anchor !== undefined && path.endsWith('.md')) {
          expect(anchorsOf(readFileSync(path, 'utf8')).has(anchor), `${guide} → ${target}`).toBe(true);
        }
      }
    },
  );
});
