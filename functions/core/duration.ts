/**
 * Durations in rollout requests are written the way people type them in a
 * `gcloud pubsub topics publish` call: a whole number and one unit, e.g. "90s", "5m", "2h".
 */
const DURATION = /^(\d{1,7})(s|m|h)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

export function parseDurationSeconds(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const [, amount, unit] = match as unknown as [string, string, keyof typeof UNIT_SECONDS];
  return Number(amount) * UNIT_SECONDS[unit];
}
