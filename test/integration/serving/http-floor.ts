/**
 * The floor for any Node HTTP endpoint on this machine: bare node:http that reads and parses the JSON body and
 * answers a fixed prediction, with no framework, auth or model. The serving benchmark loads it like the real
 * endpoints, so the part of a latency that the machine and Node's HTTP stack alone cost is visible.
 *
 * usage: node --import tsx http-floor.ts   (prints {"url"} once listening; SIGTERM stops it)
 */
import { createServer } from 'node:http';

const answer = Buffer.from('{"predictions":[0]}');
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
    res.end(answer);
  });
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
