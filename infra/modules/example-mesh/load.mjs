// The example mesh's load generator (run as `node --input-type=module -e <this file>` on the
// public Node image): sends REQUESTS_PER_SECOND GET requests a second to TARGET_URL through the
// mesh, for as long as the instance runs, and logs what came back once a minute. It also answers
// on PORT (Cloud Run's startup probe) with the same counts as JSON.
import { createServer } from 'node:http';

const target = process.env.TARGET_URL ?? '';
const requestsPerSecond = Number(process.env.REQUESTS_PER_SECOND ?? '10');
const port = Number(process.env.PORT ?? '8080');
const timeoutMs = 10_000;

if (target === '' || !(requestsPerSecond > 0)) {
  console.error(JSON.stringify({ severity: 'ERROR', message: 'set TARGET_URL and REQUESTS_PER_SECOND > 0' }));
  process.exit(2);
}

/** Answers since the last report, by HTTP status (or "error" when no answer came). */
let answers = {};
let sent = 0;

function count(outcome) {
  answers[outcome] = (answers[outcome] ?? 0) + 1;
}

function send() {
  sent += 1;
  fetch(target, { signal: AbortSignal.timeout(timeoutMs) })
    .then(async (response) => {
      await response.arrayBuffer();
      count(String(response.status));
    })
    .catch(() => count('error'));
}

function report() {
  const line = { severity: 'INFO', message: 'load', target, requestsPerSecond, sent, answers };
  answers = {};
  sent = 0;
  return line;
}

setInterval(send, 1000 / requestsPerSecond);
setInterval(() => console.log(JSON.stringify(report())), 60_000);

createServer((request, response) => {
  request.resume();
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ target, requestsPerSecond, sent, answers }));
}).listen(port);
