/**
 * What a route write changes, decided on the very snapshot the write is built from (HTTPRoute has
 * no etag, so the precondition is checked as close to the write as the API allows). Only the
 * managed rule's destinations change; everything else is sent back as read.
 *
 *   shift     the rule routes to stable and canary only, at the requested split; a rule that also
 *             routes elsewhere is never rewritten (a person's destination is never removed)
 *   rollback  the canary leaves the rule and its share goes to stable; a person's other
 *             destinations keep theirs
 */
import { describeWeights, sameWeights, type Weights } from '../weights.ts';
import { type ManagedRule, read } from './managed-rule.ts';
import { type RouteRule, type RouteSnapshot, sameBackend, sharesOf } from './snapshot.ts';

export interface WriteRequest {
  readonly target: ManagedRule;
  /** The stable/canary split wanted. */
  readonly weights: Weights;
  readonly mode: 'shift' | 'rollback';
  /** Write only while the rule shows exactly this split and routes nowhere else (null: whatever it shows). */
  readonly precondition: Weights | null;
}

export interface PlannedDestination {
  /** The backend as it is to be written (the route's own spelling when it already has it). */
  readonly name: string;
  /** null: a lone destination, written without a weight. */
  readonly weight: number | null;
}

export type WritePlan =
  | {
      readonly kind: 'write';
      readonly ruleIndex: number;
      readonly destinations: readonly PlannedDestination[];
    }
  | { readonly kind: 'skip'; readonly reason: string };

export function planWrite(route: RouteSnapshot, request: WriteRequest): WritePlan {
  const reading = read(route, request.target);
  if (reading.kind === 'gone') return { kind: 'skip', reason: 'no rule routes to stable or canary' };
  if (reading.kind === 'ambiguous') {
    return {
      kind: 'skip',
      reason: `rules [${reading.candidates.join(', ')}] could each be the managed rule`,
    };
  }
  const { precondition } = request;
  if (
    precondition !== null &&
    (reading.others.length > 0 || !sameWeights(reading.weights ?? NONE, precondition))
  ) {
    return { kind: 'skip', reason: `the rule no longer shows ${describeWeights(precondition)} alone` };
  }
  const rule = route.rules[reading.index] as RouteRule;
  if (request.mode === 'rollback') {
    if ((reading.weights?.canary ?? 0) === 0)
      return { kind: 'skip', reason: 'the rule sends the canary nothing' };
    return { kind: 'write', ruleIndex: reading.index, destinations: withoutCanary(rule, request.target) };
  }
  if (reading.others.length > 0) return { kind: 'skip', reason: 'the rule also routes to other backends' };
  // Already split this way (however the weights are spelled): nothing to write.
  if (sameWeights(reading.weights ?? NONE, request.weights))
    return { kind: 'skip', reason: 'the rule already shows it' };
  return {
    kind: 'write',
    ruleIndex: reading.index,
    destinations: shifted(rule, request.target, request.weights),
  };
}

const NONE: Weights = { stable: -1, canary: -1 };

function nameIn(rule: RouteRule, backend: string): string {
  return rule.destinations.find((d) => sameBackend(d.backend, backend))?.name ?? backend;
}

/** A lone destination carries no weight; a destination at 0 is left out (0 reads as unset). */
function finish(destinations: PlannedDestination[]): PlannedDestination[] {
  const kept = destinations.filter((d) => d.weight === null || d.weight > 0);
  const [lone, ...rest] = kept;
  return lone !== undefined && rest.length === 0 ? [{ name: lone.name, weight: null }] : kept;
}

function shifted(rule: RouteRule, target: ManagedRule, weights: Weights): PlannedDestination[] {
  const wanted = [
    { backend: target.stable, weight: weights.stable },
    { backend: target.canary, weight: weights.canary },
  ];
  // Keep the rule's order of the two backends; a backend it lacks is appended.
  const order = rule.destinations.flatMap((d) => wanted.filter((w) => sameBackend(d.backend, w.backend)));
  const ordered = [...new Set([...order, ...wanted])];
  return finish(ordered.map((w) => ({ name: nameIn(rule, w.backend), weight: w.weight })));
}

function withoutCanary(rule: RouteRule, target: ManagedRule): PlannedDestination[] {
  const shares = sharesOf(rule);
  let canaryShare = 0;
  rule.destinations.forEach((d, i) => {
    if (sameBackend(d.backend, target.canary)) canaryShare += shares[i] ?? 0;
  });
  const kept: PlannedDestination[] = [];
  let stablePlaced = false;
  rule.destinations.forEach((d, i) => {
    if (sameBackend(d.backend, target.canary)) return;
    const share = shares[i] ?? 0;
    const isStable = sameBackend(d.backend, target.stable) && !stablePlaced;
    if (isStable) stablePlaced = true;
    kept.push({ name: d.name, weight: isStable ? share + canaryShare : share });
  });
  if (!stablePlaced) kept.push({ name: target.stable, weight: canaryShare });
  return finish(kept);
}

/**
 * Taking the canary out of a route without the rollout's state (Firestore unreachable): from
 * every rule that also routes elsewhere, the canary goes and the others keep their relative
 * shares. A rule that routes only to the canary is left alone (nothing else to send its traffic
 * to) and reported. `canary` is matched by its last name segment (an alert's labels carry that).
 */
export interface Eviction {
  readonly edits: readonly {
    readonly ruleIndex: number;
    readonly destinations: readonly PlannedDestination[];
  }[];
  /** Rules that route only to the canary. */
  readonly left: readonly number[];
}

export function planEviction(route: RouteSnapshot, canary: string): Eviction {
  const isCanary = (backend: string) => backend.slice(backend.lastIndexOf('/') + 1) === canary;
  const edits: { ruleIndex: number; destinations: PlannedDestination[] }[] = [];
  const left: number[] = [];
  route.rules.forEach((rule, ruleIndex) => {
    if (!rule.destinations.some((d) => isCanary(d.backend))) return;
    const shares = sharesOf(rule);
    const kept = rule.destinations.flatMap((d, i) =>
      isCanary(d.backend) || (shares[i] ?? 0) === 0 ? [] : [{ name: d.name, weight: shares[i] ?? 0 }],
    );
    if (kept.length === 0) left.push(ruleIndex);
    else edits.push({ ruleIndex, destinations: finish(kept) });
  });
  return { edits, left };
}
