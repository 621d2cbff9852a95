/**
 * The authorization policy in Terraform: `authorization_policy` (default null) reaches every
 * function as AUTHZ_POLICY (jsonencode), and Terraform itself rejects a command the controller
 * does not know; a valid policy plans, and its JSON is what the controller's schema accepts.
 */
import { describe, expect, it } from 'vitest';
import { policySchema } from '../../functions/core/authz.ts';
import { planVariables } from './variables-plan.ts';

const CHANNEL = 'projects/p/notificationChannels/1';
const GRANTS = {
  grants: [
    {
      principals: ['topic:rollout-requests'],
      routes: ['projects/p/locations/global/httpRoutes/shop-*'],
      commands: ['start'],
    },
    { principals: ['group:oncall@example.com'], routes: ['*'], commands: ['pause', 'overrideHooks'] },
  ],
};

/** The policy as an HCL value for `-var` (the same JSON-like shape). */
const hclOf = (policy: unknown) => JSON.stringify(policy).replace(/"(\w+)":/g, '$1 = ');

describe('authorization_policy', () => {
  it('a policy of known commands plans, and its JSON is a policy the controller accepts', async () => {
    const ok = await planVariables({
      project_id: 'p',
      operator_notification_channels: `["${CHANNEL}"]`,
      authorization_policy: hclOf(GRANTS),
    });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(policySchema.safeParse(GRANTS).success).toBe(true);
  });

  it('rejects an unknown command with a message naming the allowed ones', async () => {
    const bad = structuredClone(GRANTS);
    bad.grants[0]?.commands.push('deploy');
    const refused = await planVariables({
      project_id: 'p',
      operator_notification_channels: `["${CHANNEL}"]`,
      authorization_policy: hclOf(bad),
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.replace(/\s+/g, ' ')).toContain(
      'start, pause, resume, promote, abort, retry, overrideHooks',
    );
  });
});
