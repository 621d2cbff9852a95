/**
 * The HTTP functions as deployed: each handler behind its method list and body limit (body-limit.ts). The entry
 * points (functions/entry/*.ts, functions/index.ts) register these, and tests drive these.
 */
import type { HttpFunction } from '@google-cloud/functions-framework';
import type { Runtime } from '../runtime.ts';
import { advanceRolloutHandler } from './advance-rollout.ts';
import { ADVANCE_ROLLOUT_MAX_BYTES, CONTROL_HTTP_MAX_BYTES, withHttpLimits } from './body-limit.ts';
import { controlHttpHandler } from './control-http.ts';

export function controlHttpFunction(rt: Runtime): HttpFunction {
  return withHttpLimits(
    { maxBytes: CONTROL_HTTP_MAX_BYTES, methods: ['GET', 'POST'] },
    controlHttpHandler(rt),
  );
}

export function advanceRolloutFunction(rt: Runtime): HttpFunction {
  return withHttpLimits(
    { maxBytes: ADVANCE_ROLLOUT_MAX_BYTES, methods: ['POST'] },
    advanceRolloutHandler(rt),
  );
}
