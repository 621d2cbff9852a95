/** Runs benchmark cells on worker threads (one per core) and collects the results in cell order. */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Cell } from './cells.ts';
import type { CellResult } from './simulate.ts';
import type { WorkerSetup } from './worker.ts';

export async function runCells(
  setup: WorkerSetup,
  todo: readonly Cell[],
  threads = Math.max(1, Math.min(availableParallelism(), todo.length)),
): Promise<CellResult[]> {
  const results: (CellResult | undefined)[] = new Array(todo.length);
  const positions = new Map(todo.map((c, i) => [c.index, i]));
  let next = 0;
  const workers = Array.from(
    { length: threads },
    () => new Worker(new URL('./worker.ts', import.meta.url), { workerData: setup }),
  );
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = (): void => {
              const cell = todo[next];
              next += 1;
              if (cell === undefined) resolve();
              else worker.postMessage(cell);
            };
            worker.on('message', (message: { index: number; result: CellResult }) => {
              const at = positions.get(message.index);
              if (at !== undefined) results[at] = message.result;
              feed();
            });
            worker.on('error', reject);
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results.map((r, i) => {
    if (r === undefined) throw new Error(`cell ${todo[i]?.index} produced no result`);
    return r;
  });
}
