# The control socket under hostile input, through a client written from dp_proto.h alone:
# every bad message gets an error reply, changes nothing, and the dataplane lives on. A
# good message from the same client is accepted, which cross-checks the ABI.
import errno
import struct

import dpctl
from dpctl import (BATCH, BATCH_MAX, FLUSH, FLUSH_REQ, HELLO, HELLO_REQ, MAGIC, MSG_MAX, STATS,
                   STREAM_ADD, STREAM_DEL, STREAM_GET, STREAM_LIST, TYPE_MAX, VERSION, endpoint,
                   header, message, srtp, stream)

HELLO_BODY = HELLO_REQ.pack(VERSION, 0, b"hostile")


def cases(topo):
    ra, rb = topo.RELAY_A, topo.RELAY_B
    ok_add = stream(f"{ra}:30094", f"{rb}:30096", f"{topo.B}:20096")
    bad_family = bytearray(ok_add)
    bad_family[0] = 9
    return [
        # (name, datagram, header valid so seq/type must be echoed)
        ("4-byte message", struct.pack("<I", MAGIC), False),
        ("header cut short", header(HELLO, 0, 1)[:12], False),
        ("wrong magic", message(HELLO, HELLO_BODY, seq=11, magic=0x44415052), False),
        ("version 0", message(HELLO, HELLO_BODY, seq=12, version=0), False),
        ("version + 1", message(HELLO, HELLO_BODY, seq=13, version=VERSION + 1), False),
        ("version 1", message(HELLO, HELLO_BODY, seq=53, version=1), False),
        ("type 0", message(0, b"", seq=14), True),
        ("type max", message(TYPE_MAX, b"", seq=15), True),
        ("type 0xffff", message(0xFFFF, b"", seq=16), True),
        ("len beyond datagram", message(STREAM_ADD, ok_add, seq=17, len_delta=8), True),
        ("len short of datagram", message(STREAM_ADD, ok_add, seq=18, len_delta=-8), True),
        ("len below header", message(STATS, b"", seq=19, len_delta=-4), True),
        ("add body truncated", header(STREAM_ADD, 50, 20) + ok_add[:50], True),
        ("add body with trailing bytes", message(STREAM_ADD, ok_add + b"\0" * 8, seq=21), True),
        ("oversized datagram", message(STREAM_ADD, ok_add + b"\0" * MSG_MAX, seq=22), True),
        ("add unknown flag", message(STREAM_ADD, stream(f"{ra}:30094", f"{rb}:30096",
                                                        flags=0x80 | dpctl.F_LATCH), seq=23), True),
        ("add unknown family", message(STREAM_ADD, bytes(bad_family), seq=24), True),
        ("add local not ours", message(STREAM_ADD, stream("203.0.113.1:30094", f"{rb}:30096"),
                                       seq=25), True),
        ("add local port 0", message(STREAM_ADD, stream(f"{ra}:0", f"{rb}:30096"), seq=26), True),
        ("add src not ours", message(STREAM_ADD, stream(f"{ra}:30094", "192.0.2.77:30096"),
                                     seq=27), True),
        ("add strict, no latch, no expect",
         message(STREAM_ADD, stream(f"{ra}:30094", f"{rb}:30096", flags=dpctl.F_STRICT),
                 seq=28), True),
        ("del of a missing stream", message(STREAM_DEL, endpoint(f"{ra}:30998"), seq=29), True),
        ("get truncated", header(STREAM_GET, 10, 30) + endpoint(f"{ra}:30090")[:10], True),
        ("list truncated", header(STREAM_LIST, 4, 31) + b"\0" * 4, True),
        ("flush truncated", header(FLUSH, 4, 32) + FLUSH_REQ.pack(0, 0, 0)[:4], True),
        ("flush unknown flag", message(FLUSH, FLUSH_REQ.pack(0, 0x10, 0), seq=33), True),
        ("hello truncated", header(HELLO, 8, 34) + HELLO_BODY[:8], True),
        # A BATCH malformed anywhere is refused whole: its valid writes are not applied.
        ("batch empty", message(BATCH, b"", seq=35), True),
        ("batch with a hello", message(BATCH, message(STREAM_ADD, ok_add) +
                                       message(HELLO, HELLO_BODY), seq=36), True),
        ("batch write cut short", message(BATCH, message(STREAM_ADD, ok_add) +
                                          message(STREAM_ADD, ok_add)[:-8], seq=37), True),
        ("batch write with a lying len", message(BATCH, message(STREAM_ADD, ok_add) +
                                                 message(STREAM_DEL, endpoint(f"{ra}:30090"),
                                                         len_delta=8), seq=38), True),
        ("batch of too many", message(BATCH, message(STREAM_DEL, endpoint(f"{ra}:30998")) *
                                      (BATCH_MAX + 1), seq=39), True),
    ] + srtp_cases(ra, rb)


def srtp_cases(ra, rb):
    """ABI v2 fields: every SRTP parameter out of its range is refused by name."""
    def add(seq, **kw):
        return message(STREAM_ADD, stream(f"{ra}:30094", f"{rb}:30096", **kw), seq=seq)
    key16, key32, salt14, salt12 = b"\x11" * 16, b"\x22" * 32, b"\x33" * 14, b"\x44" * 12
    cm80 = dpctl.AES_CM_128_HMAC_SHA1_80
    return [
        ("srtp suite out of range", add(40, rx=srtp(dpctl.SRTP_SUITE_MAX, key16, salt14)),
         True),
        ("srtp suite 255", add(41, tx=srtp(255, key16, salt14)), True),
        ("srtp key_len 32 for a 128-bit suite", add(42, rx=srtp(cm80, key32, salt14)), True),
        ("srtp key_len 16 for a 256-bit suite",
         add(43, tx=srtp(dpctl.AES_256_CM_HMAC_SHA1_80, key16, salt14)), True),
        ("srtp GCM with a 14-byte salt", add(44, rx=srtp(dpctl.AEAD_AES_128_GCM, key16, salt14)),
         True),
        ("srtp AES-CM with a 12-byte salt", add(45, tx=srtp(cm80, key16, salt12)), True),
        ("srtp mki_len 5", add(46, rx=srtp(cm80, key16, salt14, b"\1\2\3\4", mki_len=5)), True),
        ("srtp none with key_len", add(47, rx=srtp(dpctl.SRTP_NONE, key16)), True),
        ("srtp none with mki_len", add(48, tx=srtp(dpctl.SRTP_NONE, mki=b"\1")), True),
        ("replay window 63", add(49, replay_window=63), True),
        ("replay window 32769", add(50, replay_window=32769), True),
        ("flags rtcp and mux", add(51, flags=dpctl.F_LATCH | dpctl.F_RTCP | dpctl.F_MUX), True),
        ("flag 0x10", add(52, flags=0x10 | dpctl.F_LATCH), True),
    ]


def test_hostile_control_messages(dp, topo):
    dp.add_call(30090, 30092, b_peer=f"{topo.B}:20092")
    probe = dpctl.Client(dp.socket)
    boot = probe.hello()
    n0 = probe.stream_count()
    assert n0 == 2
    problems = []
    for name, data, echo in cases(topo):
        c = dpctl.Client(dp.socket)
        try:
            r = c.raw(data)
        except (OSError, AssertionError) as e:
            problems.append(f"{name}: no valid reply ({e!r})")
            c.close()
            continue
        c.close()
        if r.magic != MAGIC or r.status >= 0 or not r.msg:
            problems.append(f"{name}: {r}")
        if echo and (r.seq, r.type) != (struct.unpack_from("<I", data, 12)[0],
                                        struct.unpack_from("<H", data, 6)[0]):
            problems.append(f"{name}: seq/type not echoed: {r}")
        if name.startswith("version") and r.status != -errno.EPROTO:
            problems.append(f"{name}: status {r.status}, wanted -EPROTO")
        if name.startswith(("srtp", "replay", "flag")) and r.status != -errno.EINVAL:
            problems.append(f"{name}: status {r.status}, wanted -EINVAL")
        if probe.stream_count() != n0:
            problems.append(f"{name}: changed the stream count")
            n0 = probe.stream_count()
    assert not problems, "\n".join(problems)
    assert dp.alive()
    assert probe.hello()["boot_id"] == boot["boot_id"], "the dataplane restarted"
    assert sorted(s["local"] for s in dp.cli("list")["streams"]) == sorted(
        [f"{topo.RELAY_A}:30090", f"{topo.RELAY_B}:30092"])


def test_raw_batch(dp, topo):
    """A BATCH written from the header alone: each write applied in order with its own
    status, as if sent alone."""
    ra, rb = topo.RELAY_A, topo.RELAY_B
    c = dpctl.Client(dp.socket)
    n0 = c.stream_count()
    body = (message(STREAM_ADD, stream(f"{ra}:30200", f"{rb}:30202")) +
            message(STREAM_ADD, stream("203.0.113.1:30204", f"{rb}:30202")) +  # not ours
            message(STREAM_ADD, stream(f"{ra}:30206", f"{rb}:30202")) +
            message(STREAM_DEL, endpoint(f"{ra}:30200")) +
            message(STREAM_DEL, endpoint(f"{ra}:30200")))
    r = c.call(BATCH, body, seq=0x5151)
    assert r.status == 0 and r.type == BATCH and r.seq == 0x5151, r
    count, _ = struct.unpack_from("<II", r.body)
    assert count == 5 and len(r.body) == 8 + 4 * count, r
    status = struct.unpack_from(f"<{count}i", r.body, 8)
    assert status[0] == 0 and status[1] < 0 and status[2] == 0 and status[3] == 0, status
    assert status[4] == -errno.ENOENT, status
    assert c.stream_count() == n0 + 1
    assert [s["local"] for s in dp.cli("list")["streams"] if s["local"].endswith(":30206")] == [
        f"{ra}:30206"]


def test_raw_add_matches_cli_view(dp, topo):
    c = dpctl.Client(dp.socket)
    body = stream(f"{topo.RELAY_A}:30094", f"{topo.RELAY_B}:30096", f"{topo.B}:20096",
                  expect=f"{topo.A}:20094", flags=dpctl.F_LATCH | dpctl.F_STRICT,
                  window=1234, tag=0x1122334455667788, replay_window=512)
    r = c.call(STREAM_ADD, body, seq=0xABCDEF)
    assert r.status == 0 and r.seq == 0xABCDEF and r.type == STREAM_ADD, r
    got = dp.get(f"{topo.RELAY_A}:30094")
    assert (got["local"], got["src"], got["dst"], got["expect"]) == (
        f"{topo.RELAY_A}:30094", f"{topo.RELAY_B}:30096", f"{topo.B}:20096", f"{topo.A}:20094")
    assert sorted(got["flags"]) == ["latch", "strict"]
    assert got["latch_window_ms"] == 1234 and got["tag"] == 0x1122334455667788
    # A given expect counts as the first latch (session.c): the window runs from the add.
    assert got["packets"] == 0 and got["latched"] is True and got["idle_ms"] is None
    # GET through the raw client decodes to the same stream.
    r = c.call(STREAM_GET, endpoint(f"{topo.RELAY_A}:30094"))
    assert r.status == 0, r
    assert r.body[:dpctl.STREAM_SIZE] == body
    info = dpctl.stream_info(r.body)
    assert info["replay_window"] == 512 and info["srtp_auth_fail"] == 0
    assert c.stream_count() == 1
    r = c.call(STREAM_DEL, endpoint(f"{topo.RELAY_A}:30094"))
    assert r.status == 0, r
    assert c.stream_count() == 0


def test_many_clients_and_abrupt_disconnects(dp, topo):
    # Clients that vanish mid-conversation must not wedge the single-threaded server.
    for _ in range(20):
        c = dpctl.Client(dp.socket)
        c.sock.send(message(HELLO, HELLO_BODY))
        c.close()
    held = [dpctl.Client(dp.socket) for _ in range(8)]
    for c in held:
        assert c.hello()["pid"] > 0
    for c in held:
        c.close()
    assert dpctl.Client(dp.socket).hello()
    assert dp.alive()
