// Node's cluster module with N workers, for bench/run.sh: the same routes as the default app's hello and compute.
//   node bench/node-cluster.js PORT WORKERS
'use strict';
const cluster = require('node:cluster');
const http = require('node:http');

const port = Number(process.argv[2] || 8080);
const workers = Number(process.argv[3] || 2);
const HELLO = Buffer.from('Hello, world!\n');

if (cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_RR; // Node's default on Linux, said explicitly
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => { for (const id in cluster.workers) cluster.workers[id].kill(); process.exit(0); });
} else {
  http.createServer((req, res) => {
    if (req.url.startsWith('/compute')) {
      const ms = Math.min(10000, Number(new URL(req.url, 'http://x').searchParams.get('ms') || 100));
      const end = Date.now() + ms;
      while (Date.now() < end) { /* burn the event loop, as the default app's /compute does */ }
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('computed ' + ms + ' ms\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': HELLO.length });
    res.end(HELLO);
  }).listen(port, '127.0.0.1');
}
