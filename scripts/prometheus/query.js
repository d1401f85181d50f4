#!/usr/bin/env node
// Ask a Prometheus server on 127.0.0.1 through its HTTP API, for
// scripts/test-prometheus.sh. Plain `http`, no dependencies, every request
// bounded by a timeout.
//
// Usage: node query.js <port> ready               exit 0 once /-/ready says 200
//        node query.js <port> query <PromQL>      print the result vector as
//                                                 JSON lines {"labels":{...},"value":N}
//        node query.js <port> targets             print each active target's
//                                                 health and last error
'use strict';

const http = require('http');

const REQUEST_TIMEOUT_MS = 10000;

function get(port, path) {
  return new Promise((resolve, reject) => {
    const req = http.get({host: '127.0.0.1', port, path, timeout: REQUEST_TIMEOUT_MS}, (res) => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode, body: Buffer.concat(chunks).toString('utf8')}));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

async function main() {
  const [port, command, arg] = process.argv.slice(2);
  if (!port || !command) {
    console.error('usage: query.js <port> ready|query <PromQL>|targets');
    process.exit(2);
  }
  if (command === 'ready') {
    const res = await get(port, '/-/ready');
    process.exit(res.status === 200 ? 0 : 1);
  }
  if (command === 'targets') {
    const res = await get(port, '/api/v1/targets');
    for (const t of JSON.parse(res.body).data.activeTargets) {
      console.log(JSON.stringify({url: t.scrapeUrl, health: t.health, error: t.lastError}));
    }
    return;
  }
  if (command === 'query') {
    const res = await get(port, `/api/v1/query?query=${encodeURIComponent(arg)}`);
    const body = JSON.parse(res.body);
    if (body.status !== 'success') {
      throw new Error(`query ${arg}: ${body.errorType}: ${body.error}`);
    }
    for (const sample of body.data.result) {
      console.log(JSON.stringify({labels: sample.metric, value: Number(sample.value[1])}));
    }
    return;
  }
  console.error(`query.js: unknown command ${command}`);
  process.exit(2);
}

main().catch((err) => {
  console.error(`query.js: ${err.message}`);
  process.exit(1);
});
