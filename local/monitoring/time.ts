/**
 * Time on the local Monitoring API: instants and durations as bigint nanoseconds since the
 * epoch, exact for every google.protobuf.Timestamp / Duration a client can send.
 */
import { invalidArgument } from './api-error.ts';

export const NANOS_PER_MS = 1_000_000n;
const NANOS_PER_SECOND = 1_000_000_000n;

/** A Timestamp or Duration as proto-loader decodes it (int64 seconds as a string) or a client builds it. */
export interface WireSeconds {
  readonly seconds?: string | number | null;
  readonly nanos?: number | null;
}

function nanosOf(value: WireSeconds, field: string): bigint {
  const seconds = value.seconds ?? 0;
  const nanos = value.nanos ?? 0;
  if (!/^-?\d+$/.test(String(seconds)) || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
    throw invalidArgument(
      `Field ${field} had an invalid value: seconds must be an integer and nanos in 0..999999999.`,
    );
  }
  return BigInt(seconds) * NANOS_PER_SECOND + BigInt(nanos);
}

/** A Timestamp field; `field` names it in the error ("interval.endTime"). */
export function timestampNanos(value: WireSeconds, field: string): bigint {
  return nanosOf(value, field);
}

export function durationNanos(value: WireSeconds, field: string): bigint {
  return nanosOf(value, field);
}

/** A Timestamp for the wire: int64 seconds as a string, as the real API's clients decode it. */
export function wireTimestamp(nanos: bigint): { seconds: string; nanos: number } {
  let seconds = nanos / NANOS_PER_SECOND;
  let rest = nanos % NANOS_PER_SECOND;
  if (rest < 0n) {
    seconds -= 1n;
    rest += NANOS_PER_SECOND;
  }
  return { seconds: seconds.toString(), nanos: Number(rest) };
}

export function nanosFromMs(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * NANOS_PER_MS + BigInt(Math.round((ms - Math.trunc(ms)) * 1e6));
}

/** "60s", "0.5s" — how durations read in error messages. */
export function describeDuration(nanos: bigint): string {
  return `${Number(nanos) / 1e9}s`;
}
