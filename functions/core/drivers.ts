/**
 * Who drives a rollout: one workflow execution (the first one attached), or the scheduler's
 * tick. Any other execution that calls in is told to stop, so orphans of a retried start never
 * keep driving a rollout alongside its own execution.
 */
import { lastSegment } from './resource-name.ts';
import type { Rollout } from './state.ts';

/**
 * Whether the workflow execution calling in may drive the rollout: the attached one — compared by
 * execution id, since the API may name the project by number where the caller names it by id — or
 * any, while none is attached yet (the one being started may call before it is recorded).
 */
export function executionDrives(r: Rollout, execution: string | null): boolean {
  if (r.driver.kind !== 'workflow') return false;
  const attached = r.driver.execution;
  if (attached === null || execution === null) return true;
  return lastSegment(attached) === lastSegment(execution);
}
