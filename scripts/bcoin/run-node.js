#!/usr/bin/env node
// Start one bcoin regtest full node (with its wallet plugin) for btcsniff's
// tests. Run through node.sh, which checks that we are inside a network
// namespace whose only interface is `lo`.
//
// Usage: node run-node.js <cache-dir> [bcoin --options...]
//
// bcoin asks public DNS resolvers (myip.opendns.com) for its external IP when
// it starts listening (Pool#discoverExternal). There is no option to turn
// that off short of a proxy, so we replace the two lookups with ones that fail
// at once: no packet is even attempted, and start-up does not wait on them.
'use strict';

const path = require('path');

const cache = process.argv[2];
if (!cache) {
  console.error('usage: run-node.js <cache-dir> [bcoin options]');
  process.exit(2);
}
const modules = path.join(cache, 'node_modules');
const load = name => require(path.join(modules, name));

// bcoin's pool does `require('bdns')`, which resolves to this same file, so
// patching the shared module object is seen by bcoin.
const bdns = load('bdns');
const noLookup = async () => {
  throw new Error('external IP lookup disabled (btcsniff test harness)');
};
bdns.getIPv4 = noLookup;
bdns.getIPv6 = noLookup;

const FullNode = load('bcoin/lib/node/fullnode');
const WalletPlugin = load('bcoin/lib/wallet/plugin');

// argv/env config is read by bcoin itself (process.argv); its positional
// cache-dir argument is ignored by bcoin's config parser.
const node = new FullNode({
  config: false,
  argv: true,
  env: false,
  logFile: false,
  logConsole: true,
  logLevel: 'info',
  network: 'regtest',
  memory: true,
  workers: false,
  listen: true,
  upnp: false,
  seeds: [],
  loader: require
});
node.use(WalletPlugin);

process.on('unhandledRejection', (err) => {
  throw err;
});

const stop = async (signal) => {
  console.error(`run-node: ${signal}, closing node`);
  const timer = setTimeout(() => process.exit(1), 5000);
  try {
    await node.close();
  } finally {
    clearTimeout(timer);
    process.exit(0);
  }
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

(async () => {
  await node.ensure();
  await node.open();
  await node.connect();
  node.startSync();
  console.error('run-node: node started');
})().catch((err) => {
  console.error(err.stack);
  process.exit(1);
});
