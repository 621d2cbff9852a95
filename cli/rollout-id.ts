/** The ROLLOUT_ID argument of a command, checked before anything reaches Firestore or Pub/Sub. */
import { rolloutIdIssue } from '../functions/core/validation.ts';
import { UsageError } from './command.ts';

/** `undefined` stays undefined (the command says whether it needs one); a malformed id is a usage error. */
export function rolloutIdArg(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const issue = rolloutIdIssue(value, 'ROLLOUT_ID');
  if (issue !== null) throw new UsageError(`${issue.field} ${issue.rule}`);
  return value;
}
