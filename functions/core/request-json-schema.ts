/**
 * The rollout request as JSON Schema (draft 2020-12), generated from the zod schema so the two
 * never disagree. Rules JSON Schema cannot express (weights strictly increasing, stable ≠
 * canary, total hold ≤ 7 days, duration bounds, no internalLb on a mesh route) are stated in
 * descriptions.
 */
import { z } from 'zod';
import { MAX_REQUEST_BYTES, rolloutRequestSchema } from './request.ts';

export function rolloutRequestJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(rolloutRequestSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return {
    $schema: generated['$schema'],
    $id: 'https://github.com/gcp-canary-controller/schema/rollout-request.schema.json',
    title: 'Rollout request',
    description:
      'Published to the rollout-requests topic to start a canary rollout. Also enforced: weight steps strictly ' +
      `increasing, canary different from stable, hold times totalling at most 7 days, at most ${MAX_REQUEST_BYTES} bytes, ` +
      'and no internalLb metric source (chosen here or by the controller default) on a route attached to a Mesh.',
    ...Object.fromEntries(Object.entries(generated).filter(([key]) => key !== '$schema')),
  };
}
