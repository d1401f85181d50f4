#!/usr/bin/env python3
"""Turns a classic pcap of v1 traffic (e.g. examples/gencap's) into a Bitcoin
Core message-capture tree, for benchmarking `btcsniff read` on the same
messages from both sources:

  bench/pcap_to_corecap.py IN.pcap OUT_DIR

Each TCP flow becomes a peer folder named after its client (`ip_port`, as
Core names them: the node is the server, the client its inbound peer);
client-to-server messages go to msgs_recv.dat, server-to-client to
msgs_sent.dat, each with the time of the packet that completed it.
Assumes Ethernet or raw IPv4, 24-byte v1 headers, no gaps.
"""
import os, struct, sys


def main():
    src, out = sys.argv[1], sys.argv[2]
    data = open(src, "rb").read()
    e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nanos = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    link = struct.unpack(e + "I", data[20:24])[0]
    flows = {}  # (client, file name) -> bytes not yet framed
    files = {}
    at = 24
    while at + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(e + "IIII", data[at:at + 16])
        pkt = data[at + 16:at + 16 + caplen]
        at += 16 + caplen
        ip = pkt[14:] if link == 1 else pkt
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        tcp = ip[ihl:struct.unpack(">H", ip[2:4])[0]]
        payload = tcp[(tcp[12] >> 4) * 4:]
        if not payload:
            continue
        sport, dport = struct.unpack(">HH", tcp[:4])
        a = (".".join(map(str, ip[12:16])), sport)
        b = (".".join(map(str, ip[16:20])), dport)
        to_server = dport in (8333, 18333, 18444, 38333, 48333)
        client = a if to_server else b
        key = (client, "msgs_recv.dat" if to_server else "msgs_sent.dat")
        buf = flows.setdefault(key, bytearray())
        buf += payload
        t = sec * 1_000_000 + (frac // 1000 if nanos else frac)
        if key not in files:
            folder = os.path.join(out, "%s_%d" % client)
            os.makedirs(folder, exist_ok=True)
            files[key] = open(os.path.join(folder, key[1]), "wb")
        f = files[key]
        pos = 0
        while pos + 24 <= len(buf):
            length = struct.unpack("<I", buf[pos + 16:pos + 20])[0]
            if pos + 24 + length > len(buf):
                break
            f.write(struct.pack("<Q", t) + bytes(buf[pos + 4:pos + 16]) + struct.pack("<I", length))
            f.write(buf[pos + 24:pos + 24 + length])
            pos += 24 + length
        del buf[:pos]
    for f in files.values():
        f.close()


main()
