/** An AbortSignal that SIGINT or SIGTERM aborts, so a watch can end cleanly (and clean up after itself). */
export interface Interruption {
  readonly signal: AbortSignal;
  dispose(): void;
}

export function onInterrupt(): Interruption {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
    },
  };
}
