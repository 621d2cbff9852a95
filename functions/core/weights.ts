/** Traffic split between the two backends of a rollout, in whole percent; always sums to 100. */
export interface Weights {
  readonly stable: number;
  readonly canary: number;
}

export const ALL_STABLE: Weights = { stable: 100, canary: 0 };
export const ALL_CANARY: Weights = { stable: 0, canary: 100 };

export function canaryAt(canary: number): Weights {
  return { stable: 100 - canary, canary };
}

export function sameWeights(a: Weights, b: Weights): boolean {
  return a.stable === b.stable && a.canary === b.canary;
}

export function describeWeights(w: Weights): string {
  return `stable ${w.stable}% / canary ${w.canary}%`;
}
