// The example mesh's demo backend (run as `node --input-type=module -e <this file>` on the
// public Node image, so the example needs no image build): answers every request with 200, or
// with 500 for a share ERROR_RATIO (0–1) of them — the faulty canary a first rollback rolls back.
import { createServer } from 'node:http';

const errorRatio = Number(process.env.ERROR_RATIO ?? '0');
const version = process.env.VERSION ?? 'unknown';
const port = Number(process.env.PORT ?? '8080');

createServer((request, response) => {
  request.resume();
  const fail = Math.random() < errorRatio;
  response.writeHead(fail ? 500 : 200, { 'content-type': 'text/plain' });
  response.end(fail ? `${version}: injected failure\n` : `${version}: ok\n`);
}).listen(port, () => {
  console.log(JSON.stringify({ severity: 'INFO', message: 'backend listening', version, errorRatio, port }));
});
