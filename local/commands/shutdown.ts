/**
 * Runs `stop` once on Ctrl-C, SIGTERM or SIGHUP — or when the launching process (e.g. the npm
 * wrapper) goes away without passing the signal on — then exits.
 */
export function stopOnSignal(
  stop: () => Promise<void>,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const parent = process.ppid;
    const handle = (reason: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(watchdog);
      log(`\n${reason}: stopping the local cloud…`);
      stop()
        .catch((error: unknown) => log(`stopping failed: ${(error as Error).message}`))
        .finally(() => {
          resolve();
          process.exit(0);
        });
    };
    const watchdog = setInterval(() => {
      if (process.ppid !== parent) handle('parent process exited');
    }, 1000);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => handle(signal));
  });
}
