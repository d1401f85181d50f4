#!/usr/bin/env python3
"""Seeds for the fuzz targets, from real classic-pcap captures.

  fuzz_seeds.py streams  OUT PCAP...  # per flow direction: its TCP payload bytes
  fuzz_seeds.py payloads OUT PCAP...  # per v1 message: selector byte + payload
  fuzz_seeds.py pcapng   OUT PCAP...  # the same packets as pcapng
  fuzz_seeds.py corecap  OUT PCAP...  # per flow direction: its v1 messages as
                                      # Bitcoin Core message-capture records
"""
import os, struct, sys

COMMANDS = ["version", "verack", "addr", "addrv2", "sendaddrv2", "inv", "getdata", "notfound",
            "getblocks", "getheaders", "tx", "block", "headers", "getaddr", "ping", "pong", "mempool",
            "merkleblock", "filterload", "filteradd", "filterclear", "sendheaders", "feefilter",
            "sendcmpct", "cmpctblock", "getblocktxn", "blocktxn", "getcfilters", "cfilter",
            "getcfheaders", "cfheaders", "getcfcheckpt", "cfcheckpt", "wtxidrelay", "sendtxrcncl",
            "reject", "alert", "unknowncmd"]


def packets(path):
    data = open(path, "rb").read()
    magic = data[:4]
    if magic not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
        return None, []
    e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    link = struct.unpack(e + "I", data[20:24])[0]
    out, at = [], 24
    while at + 16 <= len(data):
        sec, frac, caplen, orig = struct.unpack(e + "IIII", data[at:at + 16])
        out.append((sec, frac, orig, data[at + 16:at + 16 + caplen]))
        at += 16 + caplen
    return link, out


def tcp_payload(link, pkt):
    if link == 1:
        if len(pkt) < 14 or pkt[12:14] != b"\x08\x00":
            return None
        ip = pkt[14:]
    elif link in (101, 12, 228):
        ip = pkt
    else:
        return None
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
        return None
    ihl = (ip[0] & 15) * 4
    total = struct.unpack(">H", ip[2:4])[0]
    tcp = ip[ihl:total]
    if len(tcp) < 20:
        return None
    off = (tcp[12] >> 4) * 4
    key = (ip[12:16], tcp[0:2], ip[16:20], tcp[2:4])
    return key, struct.unpack(">I", tcp[4:8])[0], tcp[off:]


def streams(paths):
    """Payload bytes per direction, in capture order (retransmissions dropped)."""
    result = {}
    for path in paths:
        link, pkts = packets(path)
        for _, _, _, pkt in pkts:
            parsed = tcp_payload(link, pkt)
            if not parsed or not parsed[2]:
                continue
            key, seq, payload = parsed
            key = (path,) + key
            seen = result.setdefault(key, [set(), bytearray()])
            if seq not in seen[0]:
                seen[0].add(seq)
                seen[1] += payload
    return [bytes(v[1]) for v in result.values()]


def main():
    mode, out, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    n = 0
    if mode == "streams":
        for s in streams(paths):
            for i in range(0, len(s), 60000):
                # First byte: the target's chunking seed.
                open(os.path.join(out, "stream%04d" % n), "wb").write(bytes([n % 256]) + s[i:i + 60000])
                n += 1
    elif mode == "payloads":
        seen = set()
        for s in streams(paths):
            at = 0
            while at + 24 <= len(s):
                cmd = s[at + 4:at + 16].rstrip(b"\0").decode("ascii", "replace")
                length = struct.unpack("<I", s[at + 16:at + 20])[0]
                payload = s[at + 24:at + 24 + length]
                at += 24 + length
                if cmd in COMMANDS and (cmd, len(payload)) not in seen and len(payload) < 4096:
                    seen.add((cmd, len(payload)))
                    open(os.path.join(out, "msg%04d" % n), "wb").write(bytes([COMMANDS.index(cmd)]) + payload)
                    n += 1
    elif mode == "corecap":
        for s in streams(paths):
            records, at, t = bytearray(), 0, 1_700_000_000_000_000
            while at + 24 <= len(s):
                cmd = s[at + 4:at + 16]
                length = struct.unpack("<I", s[at + 16:at + 20])[0]
                payload = s[at + 24:at + 24 + length]
                at += 24 + length
                # time u64 LE, command (12, NUL padded), length u32 LE, payload
                records += struct.pack("<Q", t) + cmd + struct.pack("<I", len(payload)) + payload
                t += 1000
                if len(records) > 60000:
                    break
            if records:
                open(os.path.join(out, "corecap%04d" % n), "wb").write(bytes(records))
                n += 1
    elif mode == "pcapng":
        for path in paths:
            link, pkts = packets(path)
            if link is None:
                continue
            def block(t, body):
                body += b"\0" * (-len(body) % 4)
                return struct.pack("<II", t, len(body) + 12) + body + struct.pack("<I", len(body) + 12)
            ng = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
            ng += block(1, struct.pack("<HHI", link, 0, 65535))
            for sec, frac, orig, pkt in pkts:
                ts = sec * 1_000_000 + frac
                ng += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(pkt), orig) + pkt)
            open(os.path.join(out, os.path.basename(path) + ".pcapng"), "wb").write(ng)
            n += 1
    print("%s: %d seeds in %s" % (mode, n, out), file=sys.stderr)


main()
