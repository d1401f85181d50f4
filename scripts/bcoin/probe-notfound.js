#!/usr/bin/env node
// Minimal raw-P2P client for the harness: connect to a regtest node on
// loopback, handshake, ask (getdata) for a transaction and a block that do
// not exist, and print every command the node sends back, one a line.
// bcoin answers each unknown item with `notfound`. Bounded: 10 s overall.
//
// Usage: node probe-notfound.js <port>
'use strict';

const net = require('net');
const crypto = require('crypto');

const MAGIC = Buffer.from('fabfb5da', 'hex'); // regtest, as sent on the wire
const MSG_TX = 1;
const MSG_BLOCK = 2;

const sha256d = b => crypto.createHash('sha256')
  .update(crypto.createHash('sha256').update(b).digest()).digest();

function frame(command, payload) {
  const header = Buffer.alloc(24);
  MAGIC.copy(header, 0);
  header.write(command, 4, 12, 'ascii');
  header.writeUInt32LE(payload.length, 16);
  sha256d(payload).copy(header, 20, 0, 4);
  return Buffer.concat([header, payload]);
}

function versionPayload() {
  const p = Buffer.alloc(4 + 8 + 8 + 26 + 26 + 8 + 1 + 20 + 4 + 1);
  let o = 0;
  o = p.writeInt32LE(70015, o);
  o = p.writeBigUInt64LE(0n, o); // services: none
  o = p.writeBigInt64LE(BigInt(Math.floor(Date.now() / 1000)), o);
  o += 26 + 26; // addr_recv, addr_from: zero
  o += crypto.randomBytes(8).copy(p, o); // nonce
  const agent = '/btcsniff-harness:0/';
  o = p.writeUInt8(agent.length, o);
  o += p.write(agent, o, 'ascii');
  o = p.writeInt32LE(0, o); // start height
  p.writeUInt8(0, o); // relay: no tx announcements
  return p.subarray(0, o + 1);
}

function getdataPayload(items) {
  const p = Buffer.alloc(1 + items.length * 36);
  p.writeUInt8(items.length, 0);
  items.forEach(([type, hash], i) => {
    p.writeUInt32LE(type, 1 + i * 36);
    hash.copy(p, 5 + i * 36);
  });
  return p;
}

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: probe-notfound.js <port>');
  process.exit(2);
}

const wanted = [[MSG_TX, crypto.randomBytes(32)], [MSG_BLOCK, crypto.randomBytes(32)]];
let buf = Buffer.alloc(0);
let notfound = 0;
let sentGetdata = false;
const sock = net.connect(port, '127.0.0.1', () => sock.write(frame('version', versionPayload())));
setTimeout(() => {
  console.error('probe-notfound: timeout');
  process.exit(1);
}, 10000).unref();
sock.on('error', (e) => {
  console.error(`probe-notfound: ${e.message}`);
  process.exit(1);
});
sock.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  while (buf.length >= 24) {
    const len = buf.readUInt32LE(16);
    if (len > 4000000)
      throw new Error(`oversized message (${len} bytes)`);
    if (buf.length < 24 + len)
      break;
    const command = buf.toString('ascii', 4, 16).replace(/\0+$/, '');
    const payload = buf.subarray(24, 24 + len);
    buf = buf.subarray(24 + len);
    console.log(command);
    if (command === 'version')
      sock.write(frame('verack', Buffer.alloc(0)));
    if (command === 'verack' && !sentGetdata) {
      sentGetdata = true;
      sock.write(frame('getdata', getdataPayload(wanted)));
    }
    if (command === 'ping')
      sock.write(frame('pong', payload));
    if (command === 'notfound') {
      notfound += payload.length >= 1 ? payload.readUInt8(0) : 0;
      if (notfound >= wanted.length) {
        sock.end();
        process.exit(0);
      }
    }
  }
});
