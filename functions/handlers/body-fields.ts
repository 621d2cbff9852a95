/** Bodies with fields nobody sends are refused (naming at most a few of them), not silently used. */
import { InvalidInputError } from '../errors.ts';

export function onlyFields(body: Readonly<Record<string, unknown>>, allowed: readonly string[]): void {
  const unknown: string[] = [];
  for (const key in body) {
    if (!Object.hasOwn(body, key) || allowed.includes(key)) continue;
    unknown.push(key);
    if (unknown.length > 20) break;
  }
  if (unknown.length === 0) return;
  throw InvalidInputError.fromIssues(
    'request body has unknown fields',
    unknown.map((field) => ({ field, rule: 'is not a known field' })),
    { code: 'INVALID_BODY', hint: `send only ${allowed.join(', ')}` },
  );
}

/** The workflow execution that calls advanceRollout: a name, or absent (null); anything else is refused. */
export function executionOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && value.length <= 1000) return value.slice(0, 200);
  throw new InvalidInputError('execution is not an execution name', [
    { field: 'execution', rule: 'must be a string of at most 1000 characters' },
  ]);
}
