/** The rollout request the README tells users to publish is valid, and is the one `npm run dev` prints. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateRolloutRequest } from '../../../functions/core/request.ts';
import { exampleRequest } from '../../../local/commands/example-request.ts';
import { demoApp } from '../../../local/demo-apps.ts';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README example request', () => {
  it('is a valid rollout request, identical to the one npm run dev prints', () => {
    const match = /gcloud pubsub topics publish rollout-requests --message='([^']+)'/.exec(readme);
    expect(match, 'README has a gcloud publish example').not.toBeNull();
    const body: unknown = JSON.parse(match?.[1] ?? 'null');
    const parsed = validateRolloutRequest(body);
    expect(parsed.ok).toBe(true);
    expect(body).toEqual(exampleRequest(demoApp('demo-project', 'checkout')));
  });
});
