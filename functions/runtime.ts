/** Everything a handler needs, built once per function instance (see wiring.ts). */
import type { Config } from './app/config.ts';
import type { Lazy, LifecycleEvents } from './app/lifecycle-events.ts';
import type { Logger } from './app/log.ts';
import type { RolloutExecutor } from './app/rollout-executor.ts';
import type { EventPublisher } from './ports/event-publisher.ts';
import type { GroupMembership } from './ports/group-membership.ts';
import type { HookCaller } from './ports/hook-caller.ts';
import type { MetricsReader } from './ports/metrics-reader.ts';
import type { RolloutStore } from './ports/rollout-store.ts';
import type { TrafficRouter } from './ports/traffic-router.ts';
import type { WorkflowExecutions } from './ports/workflow-executions.ts';

export interface Runtime {
  readonly config: Config;
  readonly log: Logger;
  readonly clock: () => number;
  readonly store: RolloutStore;
  /** Adapters a handler may not need are created on first use (smaller cold starts). */
  readonly router: Lazy<TrafficRouter>;
  readonly metrics: Lazy<MetricsReader>;
  readonly executions: Lazy<WorkflowExecutions>;
  /** Pub/Sub, for lifecycle events and the tick's advance messages. */
  readonly publisher: Lazy<EventPublisher>;
  /** Calls rollout hooks (HTTPS with OIDC ID tokens, docs/hooks.md). */
  readonly hooks: Lazy<HookCaller>;
  readonly events: LifecycleEvents;
  /** Resolves `group:` principals (docs/security.md#groups); null when the policy names no group. */
  readonly groups: Lazy<GroupMembership> | null;
  /** Runs every rollout's decisions (whoever drives the rollout: workflow, tick, alert, operator). */
  readonly executor: RolloutExecutor;
}
