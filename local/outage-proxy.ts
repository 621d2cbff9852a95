/**
 * A TCP pass-through in front of a local service (the Firestore emulator) that can be switched
 * off, as an outage looks to a client: every open connection is reset and new ones are refused
 * until it is switched on again. Functions pointed at it see Firestore become unreachable while
 * the emulator keeps its data.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './net.ts';

export interface OutageProxy {
  /** host:port to give clients instead of the service's own. */
  readonly host: string;
  /** Resets open connections and refuses new ones (true), or lets them through again (false). */
  setDown(down: boolean): void;
  readonly down: boolean;
  close(): Promise<void>;
}

export async function startOutageProxy(target: string): Promise<OutageProxy> {
  const [targetHost = '127.0.0.1', targetPort = '0'] = target.split(':');
  const port = await freePort();
  const open = new Set<Socket>();
  let down = false;
  const server: Server = createServer((client) => {
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: targetHost, port: Number(targetPort) });
    open.add(client);
    open.add(upstream);
    const drop = () => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    host: `127.0.0.1:${port}`,
    get down() {
      return down;
    },
    setDown(value: boolean) {
      down = value;
      if (!value) return;
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
