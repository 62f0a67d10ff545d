#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A man in the middle on a plain MQTT path (tests only, loopback only).

mitm.py --listen PORT --upstream PORT --topic TOPIC --at UNIX_TIME --log FILE
mitm.py --listen PORT --upstream PORT --delay-ms MS --log FILE

Relays every TCP connection made to 127.0.0.1:PORT to the broker at
127.0.0.1:UPSTREAM, byte for byte, in both directions.  From UNIX_TIME on,
the first PUBLISH from a client to TOPIC (an attestio records batch:
Documentation/protocol.md "Records batches") is changed in transit: the
first byte of the scan of its first sample record (wire-format.md: 40-byte
header, 16-byte sample header) gets its low bit flipped, i.e. one reading
is raised or lowered by one raw unit, and the packet goes on with its
length unchanged.  This happens once; the log says what was changed.  What
a broker path without TLS allows any host on it to do: the records' chain
and quoted checkpoints are what catch it (Documentation/threat-model.md).

With --delay-ms, everything the broker sends to a client reaches it MS
later, in order (the oracle nodes' acks among it): a path on which the
end-to-end acks always come late, for the gateways' retransmission timeout
(Documentation/attestiod.md "Retransmission"; tests/system/lateack.sh).
"""
import argparse
import asyncio
import struct
import sys
import time

REC_HDR = 40
SAMPLE_HDR = 16
REC_SAMPLE = 2


def varint(buf, i):
    """MQTT variable byte integer at buf[i]: (value, next index) or None."""
    v = 0
    for k in range(4):
        if i + k >= len(buf):
            return None
        b = buf[i + k]
        v |= (b & 0x7F) << (7 * k)
        if not b & 0x80:
            return v, i + k + 1
    raise ValueError("malformed remaining length")


def tamper_records(payload):
    """Flip one bit of the first sample's first scan byte: (offset, stream,
    seq) or None when the batch has no sample record."""
    off = 0
    while off + REC_HDR <= len(payload):
        _ver, typ, ln, stream, _flags, seq = struct.unpack_from("<HHIIIQ", payload, off)
        if ln < REC_HDR or off + ln > len(payload):
            return None
        if typ == REC_SAMPLE and ln > REC_HDR + SAMPLE_HDR:
            payload[off + REC_HDR + SAMPLE_HDR] ^= 1
            return off + REC_HDR + SAMPLE_HDR, stream, seq
        off += ln
    return None


class Mitm:
    def __init__(self, a):
        self.a = a
        self.done = False
        self.log = open(a.log, "a", buffering=1)

    def say(self, msg):
        self.log.write("%d %s\n" % (int(time.time()), msg))

    def packet(self, pkt, body_at, proto):
        """Maybe change one client->broker packet (a bytearray) in place."""
        if self.done or not self.a.topic or pkt[0] >> 4 != 3 or time.time() < self.a.at:
            return
        qos = (pkt[0] >> 1) & 3
        tl = struct.unpack_from(">H", pkt, body_at)[0]
        topic = bytes(pkt[body_at + 2:body_at + 2 + tl]).decode(errors="replace")
        if topic != self.a.topic:
            return
        i = body_at + 2 + tl + (2 if qos else 0)
        if proto == 5:
            plen, i = varint(pkt, i)
            i += plen
        payload = pkt[i:]
        hit = tamper_records(payload)
        if hit is None:
            return
        pkt[i:] = payload
        self.done = True
        self.say("tampered in transit: %s, stream %d seq %d: one reading's byte at "
                 "payload offset %d flipped" % (topic, hit[1], hit[2], hit[0]))

    async def client_to_broker(self, r, w):
        buf = bytearray()
        proto = 4
        while True:
            data = await r.read(65536)
            if not data:
                break
            buf += data
            while True:
                rl = varint(buf, 1) if len(buf) > 1 else None
                if rl is None or rl[1] + rl[0] > len(buf):
                    break
                end = rl[1] + rl[0]
                pkt = bytearray(buf[:end])
                del buf[:end]
                if pkt[0] >> 4 == 1:	# CONNECT: protocol level
                    nl = struct.unpack_from(">H", pkt, rl[1])[0]
                    proto = pkt[rl[1] + 2 + nl]
                self.packet(pkt, rl[1], proto)
                w.write(pkt)
            await w.drain()
        w.close()

    async def pipe(self, r, w):
        """broker -> client, each chunk --delay-ms after it arrived"""
        q = asyncio.Queue()

        async def out():
            while True:
                due, data = await q.get()
                if data is None:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                w.write(data)
                await w.drain()
            w.close()
        task = asyncio.ensure_future(out())
        while True:
            data = await r.read(65536)
            await q.put((time.monotonic() + self.a.delay_ms / 1000.0, data or None))
            if not data:
                break
        await task

    async def conn(self, cr, cw):
        try:
            br, bw = await asyncio.open_connection("127.0.0.1", self.a.upstream)
        except OSError as e:
            self.say("upstream: %s" % e)
            cw.close()
            return
        try:
            await asyncio.gather(self.client_to_broker(cr, bw), self.pipe(br, cw))
        except (OSError, ValueError):
            pass
        finally:
            bw.close()
            cw.close()

    async def main(self):
        srv = await asyncio.start_server(self.conn, "127.0.0.1", self.a.listen)
        self.say("listening on 127.0.0.1:%d -> 127.0.0.1:%d, target %s from %d, "
                 "broker -> client delayed %d ms" % (self.a.listen, self.a.upstream,
                                                     self.a.topic, self.a.at, self.a.delay_ms))
        async with srv:
            await srv.serve_forever()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--topic", default="")
    p.add_argument("--at", type=float, default=0)
    p.add_argument("--delay-ms", type=int, default=0)
    p.add_argument("--log", required=True)
    a = p.parse_args()
    try:
        asyncio.run(Mitm(a).main())
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
