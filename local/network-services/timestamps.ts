/** RFC 3339 timestamps with nanosecond fractions, as Google APIs write them. */

/** `2026-11-22T10:15:30.123456789Z` for a time in nanoseconds since the epoch. */
export function rfc3339(nanos: bigint): string {
  const millis = nanos / 1_000_000n;
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(millis)).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** A clock whose readings strictly increase, even for writes within the same millisecond. */
export class MonotonicClock {
  #last = 0n;

  /** The next reading, formatted as RFC 3339. */
  next(): string {
    const now = BigInt(Date.now()) * 1_000_000n;
    this.#last = now > this.#last ? now : this.#last + 1_000n;
    return rfc3339(this.#last);
  }
}
