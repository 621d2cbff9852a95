/**
 * Port: calling a rollout's hooks (production adapter: HTTPS with a Google-signed OIDC ID token
 * for the URL's audience). A call never throws for what the hook did: every outcome, including
 * timeouts and unreachable hosts, comes back as a HookResult the core can record.
 */
import type { HookBody, HookResult, PlanHook } from '../core/hooks.ts';

export interface HookCaller {
  /** Calls the hook with its retries and backoff; `body.attempt` is set per attempt by the caller. */
  call(hook: PlanHook, body: Omit<HookBody, 'attempt'>): Promise<HookResult>;
}
