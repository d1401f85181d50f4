#!/usr/bin/env node
// Talk to a bcoin regtest node started by node.sh, over its loopback HTTP
// APIs (node API on HTTP_PORT, wallet API on HTTP_PORT+1). Plain `http`, no
// dependencies; every request has a timeout.
//
// Usage: node ctl.js <http-port> <api-key> <command> [args]
//   wait-ready [seconds]   wait until node and wallet APIs answer (default 60)
//   address                print a fresh regtest address of the primary wallet
//   mine <n>               mine n blocks to a fresh wallet address; prints hashes
//   send [satoshis]        send to a fresh wallet address; prints the txid
//   best-hash              print the best block hash
//   hash-at <height>       print the hash of the block at height
//   height                 print the chain height
//   mempool                print the mempool txids, one a line
//   peers                  print connected peers as JSON
'use strict';

const http = require('http');

const REQUEST_TIMEOUT_MS = 30000;

function request(port, apiKey, method, path, body) {
  const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method,
      path,
      auth: `x:${apiKey}`,
      headers: payload
        ? {'Content-Type': 'application/json', 'Content-Length': payload.length}
        : {},
      timeout: REQUEST_TIMEOUT_MS
    }, (res) => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) {
          reject(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${text}`));
          return;
        }
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(new Error(`${method} ${path}: bad JSON: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on('error', reject);
    if (payload)
      req.write(payload);
    req.end();
  });
}

class Client {
  constructor(httpPort, apiKey) {
    this.nodePort = httpPort;
    this.walletPort = httpPort + 1;
    this.apiKey = apiKey;
  }

  async rpc(method, params = []) {
    const res = await request(this.nodePort, this.apiKey, 'POST', '/',
      {method, params, id: 1});
    if (res.error)
      throw new Error(`rpc ${method}: ${JSON.stringify(res.error)}`);
    return res.result;
  }

  // The wallet RPC's getnewaddress prints mainnet-form addresses (it formats
  // without the network); the wallet REST API formats for the node's network.
  async address() {
    const res = await request(this.walletPort, this.apiKey, 'POST',
      '/wallet/primary/address', {account: 'default'});
    return res.address;
  }

  async waitReady(seconds) {
    const deadline = Date.now() + seconds * 1000;
    let last = null;
    while (Date.now() < deadline) {
      try {
        await request(this.nodePort, this.apiKey, 'GET', '/');
        await request(this.walletPort, this.apiKey, 'GET', '/wallet/primary');
        return;
      } catch (e) {
        last = e;
      }
      await new Promise(r => setTimeout(r, 250));
    }
    throw new Error(`node not ready after ${seconds} s: ${last && last.message}`);
  }

  async mine(n) {
    return this.rpc('generatetoaddress', [n, await this.address()]);
  }

  async send(value) {
    const address = await this.address();
    // A fixed fee rate: fee estimation has no data on a fresh regtest chain.
    const tx = await request(this.walletPort, this.apiKey, 'POST',
      '/wallet/primary/send', {rate: 1000, outputs: [{address, value}]});
    return tx.hash;
  }
}

async function main() {
  const [portArg, apiKey, command, ...args] = process.argv.slice(2);
  const port = Number(portArg);
  if (!Number.isInteger(port) || port <= 0 || port > 65534 || !apiKey || !command)
    throw new Error('usage: ctl.js <http-port> <api-key> <command> [args]');
  const c = new Client(port, apiKey);
  const intArg = (i, dflt) => {
    const v = args[i] === undefined ? dflt : Number(args[i]);
    if (!Number.isInteger(v) || v < 0)
      throw new Error(`${command}: bad number ${args[i]}`);
    return v;
  };
  switch (command) {
    case 'wait-ready':
      await c.waitReady(intArg(0, 60));
      break;
    case 'address':
      console.log(await c.address());
      break;
    case 'mine':
      for (const h of await c.mine(intArg(0)))
        console.log(h);
      break;
    case 'send':
      console.log(await c.send(intArg(0, 100000000)));
      break;
    case 'best-hash':
      console.log(await c.rpc('getbestblockhash'));
      break;
    case 'hash-at':
      console.log(await c.rpc('getblockhash', [intArg(0)]));
      break;
    case 'height':
      console.log(await c.rpc('getblockcount'));
      break;
    case 'mempool':
      for (const txid of await c.rpc('getrawmempool'))
        console.log(txid);
      break;
    case 'peers':
      console.log(JSON.stringify(await c.rpc('getpeerinfo')));
      break;
    default:
      throw new Error(`unknown command ${command}`);
  }
}

// Hard bound on the whole command, whatever happens.
setTimeout(() => {
  console.error('ctl.js: overall timeout (120 s)');
  process.exit(1);
}, 120000).unref();

main().catch((err) => {
  console.error(`ctl.js: ${err.message}`);
  process.exit(1);
});
