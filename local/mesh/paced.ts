/**
 * Runs asynchronous attempts (gRPC calls, connections) at a steady rate, open loop: an attempt
 * that falls due while `concurrency` are in flight is skipped and counted. Without a rate, as
 * fast as `concurrency` attempts in flight allow. Ends after `attempts` or `durationMs`.
 */
export interface PaceOptions {
  /** Attempts per second; 0 or omitted: closed loop. */
  readonly rate?: number;
  readonly attempts?: number;
  readonly durationMs?: number;
  /** Attempts in flight at most; default 16. */
  readonly concurrency?: number;
}

export interface PaceResult {
  readonly started: number;
  readonly skipped: number;
  readonly elapsedMs: number;
}

export async function paced(options: PaceOptions, attempt: () => Promise<void>): Promise<PaceResult> {
  if (options.attempts === undefined && options.durationMs === undefined) {
    throw new Error('paced: give attempts or durationMs');
  }
  const rate = options.rate ?? 0;
  if (!(rate >= 0) || !Number.isFinite(rate)) throw new Error('paced: rate must be a finite number ≥ 0');
  const max = options.attempts ?? Number.POSITIVE_INFINITY;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 16));
  const t0 = performance.now();
  const deadline = options.durationMs === undefined ? Number.POSITIVE_INFINITY : t0 + options.durationMs;
  let started = 0;
  let skipped = 0;
  const inFlight = new Set<Promise<void>>();
  const launch = (): void => {
    started += 1;
    const run: Promise<void> = attempt()
      .catch(() => undefined)
      .finally(() => inFlight.delete(run));
    inFlight.add(run);
  };
  const more = (): boolean => started < max && performance.now() < deadline;
  while (more()) {
    if (rate === 0) {
      while (inFlight.size < concurrency && more()) launch();
      await Promise.race(inFlight);
      continue;
    }
    const due = Math.min(max, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    while (started + skipped < due && more()) {
      if (inFlight.size >= concurrency) skipped += 1;
      else launch();
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(20, 1000 / rate))));
  }
  await Promise.all(inFlight);
  return { started, skipped, elapsedMs: performance.now() - t0 };
}
