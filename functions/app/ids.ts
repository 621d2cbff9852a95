/**
 * Ids checked before any store access, on every path (reads too): a malformed id is refused
 * naming the field, with a bounded and escaped echo, and never reaches Firestore as a document path.
 */
import { ROUTE_NAME } from '../core/request.ts';
import { echo, rolloutIdIssue } from '../core/validation.ts';
import { InvalidInputError } from '../errors.ts';

export function requireRolloutId(value: unknown, field = 'rolloutId'): string {
  const issue = rolloutIdIssue(value, field);
  if (issue === null && typeof value === 'string') return value;
  throw new InvalidInputError(`${field} is not a rollout id`, issue === null ? [] : [issue], {
    code: 'INVALID_ROLLOUT_ID',
    hint: 'a rollout id is lowercase letters, digits and "-", at most 63 characters (rolloutctl list)',
  });
}

export function requireRouteName(value: string, field = 'route'): string {
  if (ROUTE_NAME.test(value)) return value;
  throw new InvalidInputError(
    `${field} is not a route name`,
    [{ field, rule: `must be a full route name (got "${echo(value, 120)}")` }],
    { code: 'INVALID_ROUTE', hint: 'projects/P/locations/L/httpRoutes/NAME' },
  );
}
