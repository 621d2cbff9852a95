/**
 * What deploys: every function entry point, what triggers it, and which topics it publishes to.
 * Terraform (infra/) and the local cloud are checked against this list.
 */
export const TOPICS = {
  requests: 'rollout-requests',
  tick: 'rollout-tick',
  alerts: 'rollout-alerts',
  control: 'rollout-control',
  events: 'rollout-events',
  advance: 'rollout-advance',
} as const;

export type Trigger = { readonly kind: 'topic'; readonly topic: string } | { readonly kind: 'http' };

export interface EntryPoint {
  /** Function name (functions-framework target and Cloud Run function entry point). */
  readonly name: string;
  /** Module that registers it, relative to the repository root. */
  readonly source: string;
  readonly trigger: Trigger;
  readonly publishes: readonly string[];
  /** Google APIs the entry point calls (for least-privilege IAM). */
  readonly uses: readonly (
    | 'firestore'
    | 'networkservices'
    | 'monitoring'
    | 'workflowexecutions'
    | 'pubsub'
  )[];
}

const driving = ['firestore', 'networkservices', 'monitoring', 'pubsub'] as const;

export const ENTRY_POINTS: readonly EntryPoint[] = [
  {
    name: 'startRollout',
    source: 'functions/entry/start-rollout.ts',
    trigger: { kind: 'topic', topic: TOPICS.requests },
    publishes: [TOPICS.events],
    uses: [...driving, 'workflowexecutions'],
  },
  {
    name: 'advanceRollout',
    source: 'functions/entry/advance-rollout.ts',
    trigger: { kind: 'http' },
    publishes: [TOPICS.events],
    uses: driving,
  },
  {
    name: 'tick',
    source: 'functions/entry/tick.ts',
    trigger: { kind: 'topic', topic: TOPICS.tick },
    // Hands each due rollout out on the advance topic; it changes none itself. It re-sends
    // lifecycle events whose publish was lost (the outbox drain).
    publishes: [TOPICS.advance, TOPICS.events],
    uses: ['firestore', 'pubsub'],
  },
  {
    name: 'advanceDue',
    source: 'functions/entry/advance-due.ts',
    trigger: { kind: 'topic', topic: TOPICS.advance },
    publishes: [TOPICS.events],
    uses: driving,
  },
  {
    name: 'onAlert',
    source: 'functions/entry/on-alert.ts',
    trigger: { kind: 'topic', topic: TOPICS.alerts },
    publishes: [TOPICS.events],
    // monitoring: the project's alert policies, to accept only incidents of known ones.
    uses: ['firestore', 'networkservices', 'monitoring', 'pubsub'],
  },
  {
    name: 'control',
    source: 'functions/entry/control.ts',
    trigger: { kind: 'topic', topic: TOPICS.control },
    publishes: [TOPICS.events],
    uses: [...driving, 'workflowexecutions'],
  },
  {
    name: 'controlHttp',
    source: 'functions/entry/control-http.ts',
    trigger: { kind: 'http' },
    publishes: [TOPICS.events],
    uses: [...driving, 'workflowexecutions'],
  },
];
