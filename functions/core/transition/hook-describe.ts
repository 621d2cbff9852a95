/** How hook results are told in history reasons, pause reasons and errors. */
import type { HookResult } from '../hooks.ts';

export function notPassed(result: HookResult): boolean {
  return result.status !== 'passed';
}

/** "smoke: failed (HTTP 500): <excerpt>" — the hook's name, status, code and answer excerpt. */
export function failureOf(result: HookResult): string {
  const code = result.code === null ? '' : ` (HTTP ${result.code})`;
  const excerpt = result.excerpt === '' ? '' : `: ${result.excerpt}`;
  return `${result.hook}: ${result.status}${code}${excerpt}`;
}

/** Every result in one line, the ones that did not pass with their code and excerpt. */
export function describeResults(results: readonly HookResult[]): string {
  return results.map((x) => (notPassed(x) ? failureOf(x) : `${x.hook}: passed`)).join('; ');
}
