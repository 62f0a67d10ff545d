#!/usr/bin/env python3
# Flip one byte of one part of an evidence bundle (protocol.md, "Evidence
# bundle") for tests/oracle/run.sh: tamper_bundle.py IN OUT PART
#   record  a byte in the middle of the first device's first chain segment
#   reading the first device's value in the bundle's report body
#   config  the tau line of the feed configuration text
import sys


def head(b, o):
    mt, ai = b[o] >> 5, b[o] & 31
    o += 1
    if ai < 24:
        return mt, ai, o
    n = 1 << (ai - 24)
    return mt, int.from_bytes(b[o:o + n], "big"), o + n


def skip(b, o):
    mt, v, o = head(b, o)
    if mt in (2, 3):
        return o + v
    if mt == 4:
        for _ in range(v):
            o = skip(b, o)
    if mt == 5:
        for _ in range(2 * v):
            o = skip(b, o)
    return o


def map_find(b, o, key):  # offset of the value of key in the map at o
    mt, n, o = head(b, o)
    assert mt == 5
    for _ in range(n):
        _, k, o = head(b, o)
        if k == key:
            return o
        o = skip(b, o)
    raise KeyError(key)


b = bytearray(open(sys.argv[1], "rb").read())
part = sys.argv[3]
if part == "reading":
    o = map_find(b, 0, 1)
    _, _, rep = head(b, o)               # the report bstr's content
    o = map_find(b, rep, 9)              # devices
    _, n, o = head(b, o)                 # array of devices
    _, _, o = head(b, o)                 # first device: [id, value, ...]
    o = skip(b, o)                       # id
    _, _, o = head(b, o)                 # the value
    b[o - 1] ^= 1                        # its lowest bit
else:
    o = map_find(b, 0, 2)
    _, n, o = head(b, o)                 # items
    items = []
    for _ in range(n):
        _, ln, c = head(b, o)
        items.append(c)
        o = c + ln
    if part == "config":
        t = map_find(b, items[0], 2)
        _, ln, t = head(b, t)
        i = bytes(b[t:t + ln]).index(b"\ntau ") + 5
        b[t + i] ^= 1
    else:
        for it in items[1:]:
            c = map_find(b, it, 12)
            _, nch, c = head(b, c)
            if nch:
                _, ln, c = head(b, c)
                b[c + ln // 2] ^= 0x40
                break
        else:
            sys.exit("no device with records")
open(sys.argv[2], "wb").write(b)
