# SRTP through the real dataplane, streams installed with the CLI (no control plane):
# packets protected by libsrtp2 (the independent reference, via rtpanchor-udpgen's filter)
# cross the relay decrypted, plain packets leave it protected so that libsrtp2 accepts them,
# SRTP is re-keyed, and tampered or replayed packets are dropped and counted per stream and
# per reason while the stream goes on. RTCP shares the port (RFC 5761) in the first test.
# The full SRTP suite with the control plane is in test_srtp*.py.
import time

import pytest

from pkt import payload, wait_for
from srtp import CM80, GCM128, SUITES, Key, rtcp_sr, rtp, srtp_filter  # noqa: F401 (fixture)


def recv_one(sock, timeout=2.0):
    got = sock.recv(1, timeout)
    return got[0][0] if got else None


def warm_up_srtp(sender, dst, receiver, protect, seq0, timeout=5.0):
    """Sends protected probes until one comes through (ARP resolution drops the first).
    Returns the next sequence number."""
    deadline = time.monotonic() + timeout
    seq = seq0
    while time.monotonic() < deadline:
        sender.send(dst, protect(rtp(seq, 0x5EC0DE, b"srtp-warm-up-%d" % seq)))
        seq += 1
        if receiver.recv(1, 0.05):
            time.sleep(0.05)
            receiver.drain()
            return seq
    raise AssertionError("no protected probe crossed the relay in 5 s")


def add(dp, local, src, dst=None, rx=None, tx=None, extra=()):
    args = ["add", "--local", local, "--src", src]
    if dst:
        args += ["--dst", dst]
    if rx:
        args += ["--rx-suite", rx.suite, "--rx-key", rx.b64()]
    if tx:
        args += ["--tx-suite", tx.suite, "--tx-key", tx.b64()]
    return dp.cli(*args, *extra)


@pytest.mark.parametrize("suite", [CM80, GCM128])
def test_libsrtp_protected_media_crosses_decrypted(dp, topo, udp, srtp_filter, suite):
    a_key, b_key = Key(suite), Key(suite)
    ra, rb = f"{topo.RELAY_A}:30200", f"{topo.RELAY_B}:30202"
    # A speaks SRTP (a_key) to the relay, B plain; the relay protects B's media with b_key.
    add(dp, ra, rb, f"{topo.B}:20202", rx=a_key, extra=["--mux"])
    add(dp, rb, ra, None, tx=b_key, extra=["--mux"])
    a = udp(topo.a, topo.A, 20200)
    b = udp(topo.b, topo.B, 20202)
    protect = srtp_filter("protect", a_key)
    seq = warm_up_srtp(a, (topo.RELAY_A, 30200), b, protect, 1)

    plain = [rtp(seq + i, 0x5EC0DE, payload(n, i)) for i, n in enumerate([20, 160, 161, 999])]
    for p in plain:
        a.send((topo.RELAY_A, 30200), protect(p))
        time.sleep(0.002)
    got = [d for d, _, _ in b.recv(len(plain), 3.0)]
    assert got == plain, "the relay did not hand B exactly what libsrtp2 protected"
    seq += len(plain)

    # SRTCP on the same port: told apart by packet type, unprotected with the RTCP keys.
    sr = rtcp_sr(0x5EC0DE, b"rtcp-mux")
    a.send((topo.RELAY_A, 30200), protect(sr))
    assert recv_one(b) == sr, "SRTCP did not cross decrypted"

    # Tampered and replayed packets are dropped and counted; the stream goes on.
    good = protect(rtp(seq, 0x5EC0DE, b"after-the-bad-ones"))
    bad = bytearray(protect(rtp(seq + 1, 0x5EC0DE, b"tampered-on-the-way")))
    bad[20] ^= 0x01
    a.send((topo.RELAY_A, 30200), bytes(bad))
    a.send((topo.RELAY_A, 30200), good)
    a.send((topo.RELAY_A, 30200), good)  # replayed
    nxt = rtp(seq + 2, 0x5EC0DE, b"still-flowing")
    a.send((topo.RELAY_A, 30200), protect(nxt))
    got = [d for d, _, _ in b.recv(2, 2.0)]
    assert got == [rtp(seq, 0x5EC0DE, b"after-the-bad-ones"), nxt], got
    assert b.recv(1, 0.3) == [], "a bad packet crossed the relay"
    st = dp.get(ra)
    assert (st["srtp_auth_fail"], st["srtp_replay"], st["srtp_other"]) == (1, 1, 0), st
    assert st["rx_srtp"] == {"suite": suite, "mki": None} and st["tx_srtp"] is None, st
    assert "mux" in st["flags"]
    drops = dp.stats()["drops"]
    assert drops["srtp-auth"]["total"] == 1 and drops["srtp-replay"]["total"] == 1, drops

    # B's plain media leaves protected with b_key (to A, learnt by latching): libsrtp2
    # unprotects it to exactly what B sent.
    unprotect = srtp_filter("unprotect", b_key)
    back = [rtp(100 + i, 0xB0B, payload(n, i)) for i, n in enumerate([12, 160, 640])]
    for p in back:
        b.send((topo.RELAY_B, 30202), p)
        time.sleep(0.002)
    got = [d for d, _, _ in a.recv(len(back), 3.0)]
    assert len(got) == len(back), f"{len(got)} of {len(back)} protected packets reached A"
    assert all(len(g) == len(p) + SUITES[suite][2] for g, p in zip(got, back)), \
        "the relay's packets do not carry the suite's tag"
    assert [unprotect(g) for g in got] == back
    st = dp.get(rb)
    assert st["tx_srtp"] == {"suite": suite, "mki": None} and st["packets"] >= len(back)


def test_srtp_rekeyed_between_legs(dp, topo, udp, srtp_filter):
    # A's key in, B's key out: B (libsrtp2) must accept what A (libsrtp2) protected with
    # another key and another suite.
    a_key, b_key = Key(CM80), Key(GCM128)
    ra, rb = f"{topo.RELAY_A}:30210", f"{topo.RELAY_B}:30212"
    add(dp, ra, rb, f"{topo.B}:20212", rx=a_key, tx=b_key)
    add(dp, rb, ra, None, rx=b_key, tx=a_key)
    a = udp(topo.a, topo.A, 20210)
    b = udp(topo.b, topo.B, 20212)
    a_prot, b_unprot = srtp_filter("protect", a_key), srtp_filter("unprotect", b_key)
    deadline = time.monotonic() + 5.0
    seq = 1
    while not b.recv(1, 0.05):  # warm-up: ARP for B's address
        a.send((topo.RELAY_A, 30210), a_prot(rtp(seq, 0xA, b"probe")))
        seq += 1
        assert time.monotonic() < deadline, "nothing crossed the relay in 5 s"
    time.sleep(0.05)
    # Probes that arrived decrypt (with B's key) to what A sent.
    for d, _, _ in b.recv(100, 0.1):
        p = b_unprot(d)
        assert p == rtp(int.from_bytes(p[2:4], "big"), 0xA, b"probe"), p
    sent = [rtp(seq + i, 0xA, payload(172, i)) for i in range(30)]
    for p in sent:
        a.send((topo.RELAY_A, 30210), a_prot(p))
        time.sleep(0.001)
    got = [d for d, _, _ in b.recv(len(sent), 3.0)]
    assert [b_unprot(g) for g in got] == sent[:len(got)] and len(got) == len(sent)
    st = dp.get(ra)
    assert st["rx_srtp"]["suite"] == CM80 and st["tx_srtp"]["suite"] == GCM128
    assert st["drops"] == 0 and st["srtp_auth_fail"] == 0

    # The other way, after A's source was latched.
    b_prot, a_unprot = srtp_filter("protect", b_key), srtp_filter("unprotect", a_key)
    back = [rtp(7 + i, 0xB, payload(160, i)) for i in range(10)]
    for p in back:
        b.send((topo.RELAY_B, 30212), b_prot(p))
        time.sleep(0.001)
    got = [d for d, _, _ in a.recv(len(back), 3.0)]
    assert [a_unprot(g) for g in got] == back


def test_wrong_key_dropped_and_replaced_key_works(dp, topo, udp, srtp_filter):
    key = Key(CM80)
    ra, rb = f"{topo.RELAY_A}:30220", f"{topo.RELAY_B}:30222"
    add(dp, ra, rb, f"{topo.B}:20222", rx=key)
    a = udp(topo.a, topo.A, 20220)
    b = udp(topo.b, topo.B, 20222)
    seq = warm_up_srtp(a, (topo.RELAY_A, 30220), b, srtp_filter("protect", key), 1)

    wrong = srtp_filter("protect", key.wrong())
    for i in range(5):
        a.send((topo.RELAY_A, 30220), wrong(rtp(seq + i, 0x5EC0DE, b"wrong key")))
    assert b.recv(1, 0.5) == []
    assert dp.get(ra)["srtp_auth_fail"] == 5

    # Control re-keys the stream (a new offer): the new key works at once, the old one no
    # longer does, and the counters of the stream carry on.
    new = Key(CM80)
    add(dp, ra, rb, f"{topo.B}:20222", rx=new)
    prot_new = srtp_filter("protect", new)
    p = rtp(1, 0x5EC1, b"new key, new sequence")
    a.send((topo.RELAY_A, 30220), prot_new(p))
    assert recv_one(b) == p
    a.send((topo.RELAY_A, 30220), srtp_filter("protect", key)(rtp(seq + 10, 0x5EC0DE, b"old")))
    assert b.recv(1, 0.5) == []
    assert dp.get(ra)["srtp_auth_fail"] == 6


def test_cli_keys_and_display(dp, topo):
    ra, rb = f"{topo.RELAY_A}:30230", f"{topo.RELAY_B}:30232"
    key = Key(GCM128)
    # Hex works as well as base64; the MKI is shown, the key never.
    dp.cli("add", "--local", ra, "--src", rb, "--rx-suite", "aead_aes_128_gcm", "--rx-key",
           key.material.hex(), "--rx-mki", "0a0b", "--tx-suite", CM80, "--tx-key",
           Key(CM80).b64(), "--replay-window", "1024", "--rtcp")
    st = dp.get(ra)
    assert st["rx_srtp"] == {"suite": GCM128, "mki": "0a0b"}, st
    assert st["tx_srtp"] == {"suite": CM80, "mki": None}
    assert st["replay_window"] == 1024 and st["flags"] == ["latch", "rtcp"]
    text = dp.cli_raw("dataplane", "get", "--local", ra).stdout
    assert "AEAD_AES_128_GCM mki 0x0a0b" in text and "replay_window:    1024" in text, text
    assert key.material.hex() not in text and key.b64() not in text
    listing = dp.cli_raw("dataplane", "list").stdout
    assert "gcm128>cm128-80" in listing, listing

    bad = [
        ["--rx-suite", CM80],                                   # no key
        ["--rx-suite", CM80, "--rx-key", Key(GCM128).b64()],    # 28 bytes, not 30
        ["--rx-suite", "AES_CM_128_HMAC_SHA1_99", "--rx-key", Key(CM80).b64()],
        ["--rx-suite", CM80, "--rx-key", Key(CM80).b64(), "--rx-mki", "0102030405"],
        ["--tx-key", Key(CM80).b64()],                          # key without suite
    ]
    for extra in bad:
        p = dp.cli_raw("dataplane", "add", "--local", rb, "--src", ra, *extra)
        assert p.returncode == 2, (extra, p.returncode, p.stderr)
    # The dataplane itself refuses a replay window out of range (exit 1, its message).
    p = dp.cli_raw("dataplane", "add", "--local", rb, "--src", ra, "--replay-window", "10")
    assert p.returncode == 1 and "replay window 10" in p.stderr, p.stderr


@pytest.mark.parametrize("rx,tx", [(GCM128, None), (CM80, GCM128), (None, GCM128),
                                   (GCM128, GCM128)],
                         ids=["gcm-in", "cm-in-gcm-out", "gcm-out", "gcm-in-gcm-out"])
def test_aead_header_lengths_keep_order(dp, topo, udp, srtp_filter, rx, tx):
    # AES-GCM authenticates the RTP header as AAD, and a cryptodev session has one AAD
    # length: the first packet with a CSRC list or an extension of a new length waits on
    # the slow path for its session. A burst of such packets, sent back to back, must
    # still arrive complete and in order, whichever step (unprotect, protect) waited.
    rk, tk = (Key(rx) if rx else None), (Key(tx) if tx else None)
    ra, rb = f"{topo.RELAY_A}:30240", f"{topo.RELAY_B}:30242"
    add(dp, ra, rb, f"{topo.B}:20242", rx=rk, tx=tk)
    a = udp(topo.a, topo.A, 20240)
    b = udp(topo.b, topo.B, 20242)
    prot = srtp_filter("protect", rk) if rk else (lambda p: p)
    unprot = srtp_filter("unprotect", tk) if tk else (lambda p: p)
    deadline = time.monotonic() + 5.0
    seq = 1
    while not b.recv(1, 0.05):  # warm-up (ARP), 12-byte headers only
        a.send((topo.RELAY_A, 30240), prot(rtp(seq, 0xAEAD, b"probe")))
        seq += 1
        assert time.monotonic() < deadline, "nothing crossed the relay in 5 s"
    time.sleep(0.05)
    got = [unprot(d) for d, _, _ in b.recv(100, 0.1)]  # probes that were still queued
    seq = max([seq] + [int.from_bytes(g[2:4], "big") + 1 for g in got])
    sent = []
    for i in range(24):
        shape = i % 6
        kw = [{}, {"csrcs": (1, 2)}, {"ext": (0xBEDE, b"\x10\xAA")}, {"csrcs": (3,), "ext": (0x1000, b"12345678")},
              {"csrcs": tuple(range(9))}, {"pad": 4}][shape]
        sent.append(rtp(seq + i, 0xAEAD, payload(40 + i, i), **kw))
    timeouts = sum(w["order_timeouts"] for w in dp.stats()["workers"])
    for p in sent:
        a.send((topo.RELAY_A, 30240), prot(p))
    got = [unprot(d) for d, _, _ in b.recv(len(sent), 3.0)]
    assert sorted(got) == sorted(sent), f"{len(got)} of {len(sent)} arrived"
    if got != sent:
        # Allowed only when the worker stopped waiting for the slow path (over 100 ms: a
        # starved main lcore on a loaded machine), which it counts.
        assert sum(w["order_timeouts"] for w in dp.stats()["workers"]) > timeouts, \
            "out of order without an order timeout"
    st = dp.get(ra)
    assert st["drops"] == 0, st


@pytest.mark.parametrize("tx", [None, GCM128], ids=["gcm-in", "gcm-in-gcm-out"])
def test_aead_header_lengths_forged_first(dp, topo, udp, srtp_filter, tx):
    # A GCM stream has four cryptodev sessions for RTP header lengths other than 12 bytes,
    # made when a packet of a new length asks, before it has authenticated. Forged packets
    # (a wrong key) with six distinct header lengths come first: each is dropped and counted
    # as an auth failure and keeps no session. libsrtp2's packets with two new header lengths
    # (a CSRC list, an extension) then cross byte for byte; once they have authenticated
    # their sessions stay: four more forged lengths do not take them, and a third new length
    # still gets through.
    rk, tk = Key(GCM128), (Key(tx) if tx else None)
    ra, rb = f"{topo.RELAY_A}:30250", f"{topo.RELAY_B}:30252"
    add(dp, ra, rb, f"{topo.B}:20252", rx=rk, tx=tk)
    a = udp(topo.a, topo.A, 20250)
    b = udp(topo.b, topo.B, 20252)
    prot, forge = srtp_filter("protect", rk), srtp_filter("protect", rk.wrong())
    unprot = srtp_filter("unprotect", tk) if tk else (lambda p: p)
    seq = warm_up_srtp(a, (topo.RELAY_A, 30250), b, prot, 1)
    ssrc = 0x5EC0DE
    forged_total = 0

    def forged(shapes, seq0):
        """One forged packet per shape, each counted as an auth failure before the next."""
        nonlocal forged_total
        for i, kw in enumerate(shapes):
            a.send((topo.RELAY_A, 30250), forge(rtp(seq0 + i, ssrc, b"forged %d" % i, **kw)))
            forged_total += 1
            wait_for(lambda: dp.get(ra)["srtp_auth_fail"] == forged_total, 3.0,
                     what=f"forged packet {forged_total} counted as srtp_auth_fail "
                          f"({dp.get(ra)})")
        assert b.recv(1, 0.2) == [], "a forged packet crossed the relay"

    def through(shapes, seq0):
        """libsrtp2's packets, one per shape, back to back: all arrive, in order."""
        sent = [rtp(seq0 + i, ssrc, payload(60 + i, i), **kw) for i, kw in enumerate(shapes)]
        timeouts = sum(w["order_timeouts"] for w in dp.stats()["workers"])
        for p in sent:
            a.send((topo.RELAY_A, 30250), prot(p))
        got = [unprot(d) for d, _, _ in b.recv(len(sent), 3.0)]
        assert sorted(got) == sorted(sent), \
            f"{len(got)} of {len(sent)} arrived; stream {dp.get(ra)}, " \
            f"drops {dp.stats()['drops']}"
        if got != sent:
            assert sum(w["order_timeouts"] for w in dp.stats()["workers"]) > timeouts, \
                "out of order without an order timeout"
        return seq0 + len(shapes)

    # Header lengths: 12 + 4 per CSRC (+ 4 + data for an extension).
    cc = [{"csrcs": tuple(range(n))} for n in range(16)]
    ext28 = {"ext": (0xBEDE, b"\x10\xAA" + b"\0" * 10)}  # 12 + 4 + 12
    forged([cc[1], cc[2], cc[3], cc[5], cc[6], cc[7]], seq + 1000)
    seq = through([cc[8], ext28, {}, cc[8], ext28, cc[8], {}, ext28], seq)
    forged([cc[9], cc[10], cc[11], cc[12]], seq + 1000)
    seq = through([cc[13], cc[8], ext28, cc[13], {}, cc[13]], seq)

    st = dp.get(ra)
    assert (st["srtp_auth_fail"], st["srtp_replay"], st["srtp_other"]) == \
        (forged_total, 0, 0), st
    assert st["drops"] == forged_total, st
    drops = dp.stats()["drops"]
    assert drops["srtp-auth"]["total"] == forged_total, drops
    assert drops["srtp-pending"]["total"] == 0 and drops["srtp-crypto"]["total"] == 0, drops
