# SRTP through the whole relay: SDES offers and answers (RFC 4568) through a real Redis and
# the real rtpanchor-control, media through the real dataplane, and libsrtp2 (through
# rtpanchor-udpgen, never the relay's code) at both ends making and checking SRTP/SRTCP.
#   caller SRTP <-> callee plain, caller plain <-> callee SRTP, SRTP <-> SRTP re-keyed,
#   sdes-passthrough, tampered/replayed/wrong-key packets dropped and counted while the
#   stream goes on, SRTCP both ways, an SSRC change, and query showing suites and drops.
# Each call is checked twice: byte for byte with crafted packets (CSRC lists, header
# extensions, padding), then with a udpgen stream (echoed back by the far end) whose
# every payload byte is verified and whose loss, duplicates and SRTP failures are counted.
import os
import re
import subprocess

import pytest

import conftest
import dataplane
from control import ctl, ctl_factory, media, redis  # noqa: F401 (fixtures)
from pkt import wait_for
from srtp import (CM80, GCM128, SUITES, Key, cryptos, gen, profile, rtp, sdp,  # noqa: F401
                  srtp_filter)

# The relay under test: the default dataplane options plus room for SRTP keys that fits the
# tests' 512 MB EAL memory (the default --srtp-streams does not).
DP_SRTP_OPTIONS = conftest.DP_OPTIONS + ["--srtp-streams", "256"]


@pytest.fixture
def dp(request, topo, workroot):
    """A running dataplane with SRTP (overrides conftest's dp for this module)."""
    d = conftest._make_dp(request, topo, workroot, DP_SRTP_OPTIONS)
    try:
        d.start()
        yield d
    finally:
        conftest._finish(request, d)


SSRC_A = 0x5A000001  # what A sends (crafted packets and udpgen's stream 0 alike)
SSRC_B = 0x5B000001
RTP_COUNT = 300      # udpgen packets per call, each way
RTCP_EVERY = 10


def offer_answer(ctl, topo, cid, a_sdp, answer_for, flags=""):
    """Offer from A, answer from B. answer_for(offer_sdp_towards_b) -> B's answer SDP.
    Returns (offer reply SDP, answer reply SDP, relay port on A's side, on B's side)."""
    r = ctl.offer(cid, "from-" + cid, a_sdp, flags=("direction=a,b " + flags).strip())
    assert "warning" not in r, r
    to_b = r["sdp"]
    addr_b, port_b = media(to_b)
    assert addr_b == topo.RELAY_B, to_b
    r = ctl.answer(cid, "from-" + cid, "to-" + cid, answer_for(to_b))
    assert "warning" not in r, r
    to_a = r["sdp"]
    addr_a, port_a = media(to_a)
    assert addr_a == topo.RELAY_A, to_a
    return to_b, to_a, port_a, port_b


def only_crypto(sdp_text, suite=None):
    """The one a=crypto line an answer carries: (tag, Key)."""
    c = cryptos(sdp_text)
    assert len(c) == 1, sdp_text
    if suite is not None:
        assert c[0][1].suite == suite, sdp_text
    return c[0]


def pick(offer_sdp, suite):
    """The (tag, relay's Key) of suite among the a=crypto lines the relay offered."""
    for tag, k in cryptos(offer_sdp):
        if k.suite == suite:
            return tag, k
    raise AssertionError(f"{suite} not offered:\n{offer_sdp}")


class Ends:
    """Kernel UDP sockets for A and B on their RTP ports, and the relay's two addresses."""

    def __init__(self, udp, topo, a_port, b_port, port_a, port_b):
        self.a = udp(topo.a, topo.A, a_port)
        self.b = udp(topo.b, topo.B, b_port)
        self.to_a_side = (topo.RELAY_A, port_a)  # where A sends
        self.to_b_side = (topo.RELAY_B, port_b)  # where B sends

    def close(self):
        self.a.close()
        self.b.close()


def through(sender, dst, receiver, packets, protect=None, unprotect=None):
    """Sends each packet (protected first when protect is given) and returns what arrived
    (unprotected when unprotect is given), in order."""
    for p in packets:
        sender.send(dst, protect(p) if protect else p)
    got = [d for d, _, _ in receiver.recv(len(packets), 3.0)]
    return [unprotect(d) for d in got] if unprotect else got


def warm_up(sender, dst, receiver, ssrc, protect=None, unprotect=None, limit=40):
    """Distinct probes of the stream itself (same SSRC, sequence 1, 2, ...: SRTP state is
    per stream) until one gets through: ARP may hold the first ones. Returns the next
    sequence number; everything that arrived was checked byte for byte."""
    for seq in range(1, limit):
        p = rtp(seq, ssrc, b"warm-up probe %d" % seq)
        sender.send(dst, protect(p) if protect else p)
        got = receiver.recv(1, 0.1)
        if got:
            got += receiver.recv(limit, 0.1)
            for d, _, _ in got:
                d = unprotect(d) if unprotect else d
                assert d[12:].startswith(b"warm-up probe"), d
            return seq + 1
    raise AssertionError(f"no probe crossed the relay to {dst}")


def _body(tag, i):
    return tag + b"-%03d-" % i + os.urandom(20 + i * 7)


def variety(ssrc, seq0, tag):
    """RTP packets with a 12-byte header: payload sizes, the marker bit, other payload
    types (PCMA, telephone-event), padding."""
    return [
        rtp(seq0, ssrc, _body(tag, 0)),
        rtp(seq0 + 1, ssrc, _body(tag, 1), marker=True, pt=8),
        rtp(seq0 + 2, ssrc, _body(tag, 2), pad=4),
        rtp(seq0 + 3, ssrc, _body(tag, 3), pt=101, marker=True),
        rtp(seq0 + 4, ssrc, _body(tag, 4), pad=1),
    ]


def header_variety(ssrc, seq0, tag):
    """RTP packets whose headers grow: CSRC lists (a mixer), header extensions (RFC 8285
    one-byte, as for audio levels, and another profile), both, with padding; each header
    length appears here for the first time in the call."""
    return [
        rtp(seq0, ssrc, _body(tag, 0), csrcs=(0xC0FFEE01, 0xC0FFEE02)),
        rtp(seq0 + 1, ssrc, _body(tag, 1), ext=(0xBEDE, b"\x10\xAA\x21\xBB\xCC")),
        rtp(seq0 + 2, ssrc, _body(tag, 2), csrcs=(7,), ext=(0x1000, b"12345678"), pad=3),
        rtp(seq0 + 3, ssrc, _body(tag, 3), csrcs=tuple(range(15))),
        rtp(seq0 + 4, ssrc, _body(tag, 4)),
    ]


def traffic(gen, topo, a_port, b_port, port_a, port_b, a_tx=None, a_rx=None, b_rx=None,
            b_tx=None, seq_base=100, count=RTP_COUNT, mux=False):
    """udpgen: A sends RTP + RTCP SRs to the relay and checks what comes back; B echoes
    (unprotecting with b_rx, protecting with b_tx). mux: RTCP on the RTP ports at both
    ends (RFC 5761). Returns (A's summary, B's summary)."""
    b_args = ["--bind", f"{topo.B}:{b_port}", "--idle-exit", "1.5"]
    b_args += ["--rtcp-mux"] if mux else ["--rtcp"]
    b_args += ["--srtp-rx", b_rx.spec()] if b_rx else []
    b_args += ["--srtp-tx", b_tx.spec()] if b_tx else []
    echo = gen(topo.b, "echo", *b_args).wait_bound(topo.b, b_port + (0 if mux else 1))
    a_args = ["--dst", f"{topo.RELAY_A}:{port_a}", "--bind", f"{topo.A}:{a_port}",
              "--ssrc-base", SSRC_A, "--seq-base", seq_base, "--count", count,
              "--rate", 1000, "--rtcp-every", RTCP_EVERY, "--replies", "--linger", 2]
    a_args += ["--rtcp-mux"] if mux else []
    a_args += ["--srtp-tx", a_tx.spec()] if a_tx else []
    a_args += ["--srtp-rx", a_rx.spec()] if a_rx else []
    return gen(topo.a, "send", *a_args).result(), echo.result()


def assert_clean_round_trip(s, e, count=RTP_COUNT):
    """Every RTP packet and SR reached B intact and came back to A intact, once."""
    srs = count // RTCP_EVERY
    assert e["received"] == count and e["corrupt"] == 0 and e["dup"] == 0, e
    assert e["auth_fail"] == e["replay"] == e["srtp_other"] == 0, e
    assert e["rtcp"]["received"] == srs and e["rtcp"]["corrupt"] == 0, e
    assert e["echoed"] == count + srs, e
    assert s["sent"] == count and s["received"] == count, s
    assert s["lost"] == s["dup"] == s["corrupt"] == s["misrouted"] == 0, s
    assert s["auth_fail"] == s["replay"] == s["srtp_other"] == 0, s
    assert s["rtcp"]["sent"] == srs and s["rtcp"]["received"] == srs, s
    assert s["rtcp"]["corrupt"] == s["rtcp"]["auth_fail"] == s["rtcp"]["lost"] == 0, s


def dp_stream(dp, topo, side, port):
    return dp.get(f"{topo.RELAY_A if side == 'a' else topo.RELAY_B}:{port}")


def suite_of(srtp_json):
    return None if srtp_json is None else srtp_json["suite"]


def assert_dp_suites(dp, topo, port_a, port_b, a_in, a_out, b_in, b_out):
    """The dataplane's rules: what arrives from A/B (rx) and leaves towards B/A (tx), for
    RTP and RTCP (port + 1)."""
    for off, flag in ((0, False), (1, True)):
        fa = dp_stream(dp, topo, "a", port_a + off)
        fb = dp_stream(dp, topo, "b", port_b + off)
        assert (suite_of(fa["rx_srtp"]), suite_of(fa["tx_srtp"])) == (a_in, a_out), fa
        assert (suite_of(fb["rx_srtp"]), suite_of(fb["tx_srtp"])) == (b_in, b_out), fb


def query_streams(ctl, cid):
    q = ctl.ok("query", call_id=cid)
    return {s["local"]: s for s in q["streams"]}


def assert_query_suites(ctl, cid, topo, port_a, port_b, a_in, a_out, b_in, b_out,
                        passthrough=False):
    """query through Redis: the suites per stream, RTP and RTCP, as assert_dp_suites."""
    qs = query_streams(ctl, cid)
    name = lambda s: s or "none"  # noqa: E731
    for off in (0, 1):
        fa = qs[f"{topo.RELAY_A}:{port_a + off}"]
        fb = qs[f"{topo.RELAY_B}:{port_b + off}"]
        assert (fa["crypto-in"], fa["crypto-out"]) == (name(a_in), name(a_out)), fa
        assert (fb["crypto-in"], fb["crypto-out"]) == (name(b_in), name(b_out)), fb
        assert fa["sdes-passthrough"] is passthrough and fb["sdes-passthrough"] is passthrough
        assert fa["installed"] and fb["installed"], (fa, fb)


# ---- SRTP on one leg ----

@pytest.mark.parametrize("suite,mki", [(CM80, None), (GCM128, None), (CM80, (1, 4))],
                         ids=[CM80, GCM128, "CM80-MKI"])
def test_srtp_caller_plain_callee(ctl, dp, topo, udp, gen, srtp_filter, suite, mki):
    """A offers SAVP with its key, transport-protocol=RTP/AVP makes B's leg plain; the relay
    answers A with a key of its own. A's SRTP reaches B as the exact plain packet; B's
    plain RTP reaches A as SRTP that decrypts with the key of the relay's answer. With an
    MKI (1:4) in A's key, A's packets carry it and the relay checks it."""
    cid = "srtp-plain-" + suite + ("-mki" if mki else "")
    ka = Key(suite, mki=mki)
    to_b, to_a, port_a, port_b = offer_answer(
        ctl, topo, cid, sdp(topo.A, 25000, "RTP/SAVP", [(1, ka)]),
        lambda o: sdp(topo.B, 25002), flags="transport-protocol=RTP/AVP")
    assert profile(to_b) == "RTP/AVP" and cryptos(to_b) == [], to_b
    assert profile(to_a) == "RTP/SAVP", to_a
    tag, kr = only_crypto(to_a, suite)
    assert tag == 1 and kr != ka, "the relay must answer A's tag with a key of its own"
    assert_dp_suites(dp, topo, port_a, port_b, suite, None, None, suite)
    assert_query_suites(ctl, cid, topo, port_a, port_b, suite, None, None, suite)

    e = Ends(udp, topo, 25000, 25002, port_a, port_b)
    prot_a, unprot_a = srtp_filter("protect", ka), srtp_filter("unprotect", kr)
    seq = warm_up(e.a, e.to_a_side, e.b, SSRC_A, protect=prot_a)
    pkts = variety(SSRC_A, seq, b"A->B")
    assert through(e.a, e.to_a_side, e.b, pkts, protect=prot_a) == pkts
    seq = warm_up(e.b, e.to_b_side, e.a, SSRC_B, unprotect=unprot_a)
    pkts = variety(SSRC_B, seq, b"B->A")
    assert through(e.b, e.to_b_side, e.a, pkts, unprotect=unprot_a) == pkts
    if mki:
        # The right key under another MKI: not A's key as far as the relay knows.
        other = srtp_filter("protect", Key(suite, ka.material, (mki[0] + 1, mki[1])))
        before = dp_stream(dp, topo, "a", port_a)["srtp_other"]
        for i in range(3):
            e.a.send(e.to_a_side, other(rtp(90 + i, SSRC_A, b"unknown MKI %d" % i)))
        assert e.b.recv(1, 0.3) == []
        wait_for(lambda: dp_stream(dp, topo, "a", port_a)["srtp_other"] - before == 3, 3.0,
                 what="3 packets with an unknown MKI counted as srtp_other")
    # SRTCP in, RTCP out, and back.
    e.close()
    s, b = traffic(gen, topo, 25000, 25002, port_a, port_b, a_tx=ka, a_rx=kr)
    assert_clean_round_trip(s, b)


@pytest.mark.parametrize("suite", [GCM128, CM80])
def test_plain_caller_srtp_callee(ctl, dp, topo, udp, gen, srtp_filter, suite):
    """A plain, transport-protocol=RTP/SAVP towards B: the relay offers B every suite with
    its own keys, B picks one and answers with its key, A's answer stays plain."""
    cid = "plain-srtp-" + suite
    kb = Key(suite)
    chosen = {}

    def answer(o):
        chosen["tag"], chosen["key"] = pick(o, suite)
        return sdp(topo.B, 25012, "RTP/SAVP", [(chosen["tag"], kb)])

    to_b, to_a, port_a, port_b = offer_answer(
        ctl, topo, cid, sdp(topo.A, 25010), answer, flags="transport-protocol=RTP/SAVP")
    offered = cryptos(to_b)
    assert profile(to_b) == "RTP/SAVP" and {k.suite for _, k in offered} == set(SUITES), to_b
    assert len({t for t, _ in offered}) == len(offered), "tags must be distinct"
    assert len({k.material for _, k in offered}) == len(offered), "one key per line"
    assert profile(to_a) == "RTP/AVP" and cryptos(to_a) == [], to_a
    krb = chosen["key"]
    assert krb != kb
    assert_dp_suites(dp, topo, port_a, port_b, None, suite, suite, None)
    assert_query_suites(ctl, cid, topo, port_a, port_b, None, suite, suite, None)

    e = Ends(udp, topo, 25010, 25012, port_a, port_b)
    prot_b, unprot_b = srtp_filter("protect", kb), srtp_filter("unprotect", krb)
    seq = warm_up(e.a, e.to_a_side, e.b, SSRC_A, unprotect=unprot_b)
    pkts = variety(SSRC_A, seq, b"A->B")
    assert through(e.a, e.to_a_side, e.b, pkts, unprotect=unprot_b) == pkts
    seq = warm_up(e.b, e.to_b_side, e.a, SSRC_B, protect=prot_b)
    pkts = variety(SSRC_B, seq, b"B->A")
    assert through(e.b, e.to_b_side, e.a, pkts, protect=prot_b) == pkts
    e.close()
    s, b = traffic(gen, topo, 25010, 25012, port_a, port_b, b_rx=krb, b_tx=kb)
    assert_clean_round_trip(s, b)


# ---- SRTP on both legs ----

def test_srtp_to_srtp_rekeyed(ctl, dp, topo, udp, gen, srtp_filter):
    """A offers AES_CM_128_HMAC_SHA1_80, B picks AEAD_AES_128_GCM from the relay's offer:
    four different keys, one per leg and direction; each end decrypts with the relay's."""
    cid = "rekey"
    ka, kb = Key(CM80), Key(GCM128)
    chosen = {}

    def answer(o):
        chosen["tag"], chosen["key"] = pick(o, GCM128)
        return sdp(topo.B, 25022, "RTP/SAVP", [(chosen["tag"], kb)])

    to_b, to_a, port_a, port_b = offer_answer(
        ctl, topo, cid, sdp(topo.A, 25020, "RTP/SAVP", [(1, ka)]), answer)
    assert profile(to_b) == "RTP/SAVP" and profile(to_a) == "RTP/SAVP"
    _, kra = only_crypto(to_a, CM80)
    krb = chosen["key"]
    keys = [ka.material, kb.material, kra.material, krb.material]
    assert len(set(keys)) == 4, "each leg and direction must have a key of its own"
    assert ka.b64() not in to_b, "A's key must not leave towards B"
    assert_dp_suites(dp, topo, port_a, port_b, CM80, GCM128, GCM128, CM80)
    assert_query_suites(ctl, cid, topo, port_a, port_b, CM80, GCM128, GCM128, CM80)

    e = Ends(udp, topo, 25020, 25022, port_a, port_b)
    prot_a, unprot_a = srtp_filter("protect", ka), srtp_filter("unprotect", kra)
    prot_b, unprot_b = srtp_filter("protect", kb), srtp_filter("unprotect", krb)
    seq = warm_up(e.a, e.to_a_side, e.b, SSRC_A, protect=prot_a, unprotect=unprot_b)
    pkts = variety(SSRC_A, seq, b"A->B")
    assert through(e.a, e.to_a_side, e.b, pkts, protect=prot_a, unprotect=unprot_b) == pkts
    seq = warm_up(e.b, e.to_b_side, e.a, SSRC_B, protect=prot_b, unprotect=unprot_a)
    pkts = variety(SSRC_B, seq, b"B->A")
    assert through(e.b, e.to_b_side, e.a, pkts, protect=prot_b, unprotect=unprot_a) == pkts
    e.close()
    s, b = traffic(gen, topo, 25020, 25022, port_a, port_b, a_tx=ka, a_rx=kra, b_rx=krb,
                   b_tx=kb)
    assert_clean_round_trip(s, b)


def test_srtp_rtcp_mux_both_legs(ctl, dp, topo, gen):
    """RTP and RTCP on one port at both ends (a=rtcp-mux offered and accepted), SRTP with
    AEAD_AES_128_GCM on A's leg, plain on B's: the relay tells SRTCP from SRTP by packet
    type (RFC 5761) and transforms each with its own rules."""
    cid = "mux"
    ka = Key(GCM128)
    to_b, to_a, port_a, port_b = offer_answer(
        ctl, topo, cid, sdp(topo.A, 25070, "RTP/SAVP", [(1, ka)], extra="a=rtcp-mux\r\n"),
        lambda o: sdp(topo.B, 25072, extra="a=rtcp-mux\r\n"),
        flags="transport-protocol=RTP/AVP")
    assert "a=rtcp-mux" in to_b and "a=rtcp-mux" in to_a, (to_b, to_a)
    _, kr = only_crypto(to_a, GCM128)
    fa = dp_stream(dp, topo, "a", port_a)
    assert (suite_of(fa["rx_srtp"]), suite_of(fa["tx_srtp"])) == (GCM128, None), fa
    s, b = traffic(gen, topo, 25070, 25072, port_a, port_b, a_tx=ka, a_rx=kr, mux=True)
    assert_clean_round_trip(s, b)


def order_timeouts(dp):
    return sum(w["order_timeouts"] for w in dp.stats()["workers"])


def assert_in_order(dp, before, sent, got):
    """Every packet crossed exactly once, and in order. The first packet of a new AEAD
    header length waits on the slow path for its cryptodev session while later packets of
    the stream wait behind it; only when the worker stopped waiting (over 100 ms: a starved
    main lcore on a loaded machine), which it counts, may the order differ."""
    assert sorted(got) == sorted(sent), f"{len(got)} of {len(sent)} arrived"
    if got != sent:
        assert order_timeouts(dp) > before, "out of order without an order timeout"


@pytest.mark.parametrize("suite", [CM80, GCM128])
def test_srtp_header_lengths_both_ways(ctl, dp, topo, udp, srtp_filter, suite):
    """SRTP <-> SRTP (same suite both legs, re-keyed) with CSRC lists and header extensions
    (RFC 3711 section 3.1: authenticated, not encrypted; RFC 7714 section 9.1: the AEAD
    associated data is the whole header). Every packet must cross once and in order, the
    first packet of each header length included, unprotected and protected again."""
    cid = "hdr-" + suite
    ka, kb = Key(suite), Key(suite)
    chosen = {}

    def answer(o):
        chosen["tag"], chosen["key"] = pick(o, suite)
        return sdp(topo.B, 25082, "RTP/SAVP", [(chosen["tag"], kb)])

    to_b, to_a, port_a, port_b = offer_answer(
        ctl, topo, cid, sdp(topo.A, 25080, "RTP/SAVP", [(1, ka)]), answer)
    _, kra = only_crypto(to_a, suite)
    krb = chosen["key"]
    e = Ends(udp, topo, 25080, 25082, port_a, port_b)
    prot_a, unprot_a = srtp_filter("protect", ka), srtp_filter("unprotect", kra)
    prot_b, unprot_b = srtp_filter("protect", kb), srtp_filter("unprotect", krb)
    seq = warm_up(e.a, e.to_a_side, e.b, SSRC_A, protect=prot_a, unprotect=unprot_b)
    pkts = header_variety(SSRC_A, seq, b"A->B")
    before = order_timeouts(dp)
    assert_in_order(dp, before, pkts,
                    through(e.a, e.to_a_side, e.b, pkts, protect=prot_a, unprotect=unprot_b))
    seq = warm_up(e.b, e.to_b_side, e.a, SSRC_B, protect=prot_b, unprotect=unprot_a)
    pkts = header_variety(SSRC_B, seq, b"B->A")
    before = order_timeouts(dp)
    assert_in_order(dp, before, pkts,
                    through(e.b, e.to_b_side, e.a, pkts, protect=prot_b, unprotect=unprot_a))
    for side, port in (("a", port_a), ("b", port_b)):
        st = dp_stream(dp, topo, side, port)
        assert st["drops"] == 0, st


def test_sdes_passthrough(ctl, dp, topo, gen):
    """sdes-passthrough: each party's a=crypto reaches the other untouched and the relay
    forwards SRTP as it is (the streams hold no keys)."""
    cid = "passthrough"
    ka, kb = Key(GCM128), Key(GCM128)
    to_b, to_a, port_a, port_b = offer_answer(
        ctl, topo, cid, sdp(topo.A, 25030, "RTP/SAVP", [(3, ka)]),
        lambda o: sdp(topo.B, 25032, "RTP/SAVP", [(3, kb)]), flags="sdes-passthrough")
    assert cryptos(to_b) == [(3, ka)] and cryptos(to_a) == [(3, kb)]
    assert_dp_suites(dp, topo, port_a, port_b, None, None, None, None)
    assert_query_suites(ctl, cid, topo, port_a, port_b, GCM128, GCM128, GCM128, GCM128,
                        passthrough=True)
    s, b = traffic(gen, topo, 25030, 25032, port_a, port_b, a_tx=ka, a_rx=kb, b_rx=ka,
                   b_tx=kb)
    assert_clean_round_trip(s, b)


# ---- bad packets, counters, query ----

def test_bad_srtp_from_caller_dropped_counted_stream_goes_on(ctl, dp, topo, udp, gen,
                                                             srtp_filter):
    """A (SRTP, AES_CM_128_HMAC_SHA1_80) sends, around its good packets, tampered copies,
    replays and packets under a wrong key, RTP and RTCP alike. B (plain) gets every good
    packet exactly once and nothing else; the relay counts each kind per stream, and
    query (Redis and the CLI) reports the suites and those drop reasons."""
    cid = "bad-from-a"
    ka = Key(CM80)
    to_b, to_a, port_a, port_b = offer_answer(
        ctl, topo, cid, sdp(topo.A, 25040, "RTP/SAVP", [(1, ka)]),
        lambda o: sdp(topo.B, 25042), flags="transport-protocol=RTP/AVP")
    e = Ends(udp, topo, 25040, 25042, port_a, port_b)
    warm_up(e.a, e.to_a_side, e.b, SSRC_A, protect=srtp_filter("protect", ka))
    e.close()
    before = {off: dp_stream(dp, topo, "a", port_a + off) for off in (0, 1)}
    rx = gen(topo.b, "recv", "--bind", f"{topo.B}:25042", "--rtcp", "--idle-exit", "1.5",
             "--ssrc-base", SSRC_A).wait_bound(topo.b, 25043)
    s = gen(topo.a, "send", "--dst", f"{topo.RELAY_A}:{port_a}", "--bind",
            f"{topo.A}:25040", "--ssrc-base", SSRC_A, "--seq-base", 100, "--count", 200,
            "--rate", 1000, "--srtp-tx", ka.spec(), "--rtcp-every", 5, "--tamper", 10,
            "--replay", 7, "--wrong-key", 13).result()
    r = rx.result()
    assert (s["tampered"], s["replayed"], s["wrong_key"]) == (20, 28, 15), s
    sr = s["rtcp"]
    assert (sr["sent"], sr["tampered"], sr["replayed"], sr["wrong_key"]) == (40, 4, 5, 3), s
    # B: the good packets, all of them, once, intact; the stream went on past every bad one.
    assert r["received"] == 200 and r["lost"] == r["dup"] == r["corrupt"] == 0, r
    assert r["rtcp"]["received"] == 40 and r["rtcp"]["dup"] == r["rtcp"]["corrupt"] == 0, r
    # The relay: each kind counted on the stream it arrived on.
    want = {0: (20 + 15, 28, 200), 1: (4 + 3, 5, 40)}
    for off, (auth, replay, good) in want.items():
        st = dp_stream(dp, topo, "a", port_a + off)
        b0 = before[off]
        assert st["srtp_auth_fail"] - b0["srtp_auth_fail"] == auth, st
        assert st["srtp_replay"] - b0["srtp_replay"] == replay, st
        assert st["srtp_other"] == 0, st
        assert st["packets"] - b0["packets"] == good, st

    # query through Redis: suites per stream and the drops by reason (the warm-up probes
    # were all good).
    assert_query_suites(ctl, cid, topo, port_a, port_b, CM80, None, None, CM80)
    q = ctl.ok("query", call_id=cid)
    qs = {x["local"]: x for x in q["streams"]}
    fwd, rtcp = qs[f"{topo.RELAY_A}:{port_a}"], qs[f"{topo.RELAY_A}:{port_a + 1}"]
    rev = qs[f"{topo.RELAY_B}:{port_b}"]
    assert (fwd["srtp-auth-fail"], fwd["srtp-replay"], fwd["srtp-other"]) == (35, 28, 0), fwd
    assert (rtcp["srtp-auth-fail"], rtcp["srtp-replay"], rtcp["srtp-other"]) == (7, 5, 0), rtcp
    assert fwd["drops"] == 35 + 28 and rtcp["drops"] == 7 + 5, (fwd, rtcp)
    assert rev["srtp-auth-fail"] == rev["srtp-replay"] == rev["drops"] == 0, rev
    t = q["totals"]
    assert (t["srtp-auth-fail"], t["srtp-replay"], t["srtp-other"]) == (42, 33, 0), t
    # ... in Prometheus, as the dataplane counts them by reason (gauges refresh each second).
    def drop_metric(reason):
        m = re.search(r'^rtpanchor_dataplane_drops_by_reason_total\{reason="%s"\} (\d+)$'
                      % reason, ctl.metrics(), re.M)
        return int(m.group(1)) if m else None

    wait_for(lambda: drop_metric("srtp-auth") == dp.drops("srtp-auth") >= 42, 10,
             what="srtp-auth drops in /metrics")
    assert drop_metric("srtp-replay") == dp.drops("srtp-replay") >= 33
    assert drop_metric("no-stream") is not None
    # ... and through the CLI, as an operator reads it; never a key.
    p = subprocess.run([dataplane.CLI, "--redis", f"127.0.0.1:{ctl.redis.port}", "query",
                        "--call-id", cid], capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert f"crypto-in: {CM80}" in out and "srtp-auth-fail: 35" in out, out
    assert "srtp-replay: 28" in out and "srtp-auth-fail: 7" in out, out
    assert ka.b64() not in out and ka.b64()[:16] not in out


def test_bad_srtp_from_callee_dropped_counted_stream_goes_on(ctl, dp, topo, udp, gen,
                                                             srtp_filter):
    """The same from the callee's SRTP leg (AEAD_AES_128_GCM) towards a plain caller."""
    cid = "bad-from-b"
    kb = Key(GCM128)

    def answer(o):
        tag, _ = pick(o, GCM128)
        return sdp(topo.B, 25052, "RTP/SAVP", [(tag, kb)])

    to_b, to_a, port_a, port_b = offer_answer(
        ctl, topo, cid, sdp(topo.A, 25050), answer, flags="transport-protocol=RTP/SAVP")
    # The relay sends to A's SDP address before A speaks; the probes settle ARP.
    e = Ends(udp, topo, 25050, 25052, port_a, port_b)
    warm_up(e.b, e.to_b_side, e.a, SSRC_B, protect=srtp_filter("protect", kb))
    e.close()
    rx = gen(topo.a, "recv", "--bind", f"{topo.A}:25050", "--rtcp", "--idle-exit", "1.5",
             "--ssrc-base", SSRC_B).wait_bound(topo.a, 25051)
    s = gen(topo.b, "send", "--dst", f"{topo.RELAY_B}:{port_b}", "--bind",
            f"{topo.B}:25052", "--ssrc-base", SSRC_B, "--seq-base", 100, "--count", 200,
            "--rate", 1000, "--srtp-tx", kb.spec(), "--rtcp-every", 5, "--tamper", 10,
            "--replay", 7, "--wrong-key", 13).result()
    r = rx.result()
    assert (s["tampered"], s["replayed"], s["wrong_key"]) == (20, 28, 15), s
    assert r["received"] == 200 and r["lost"] == r["dup"] == r["corrupt"] == 0, r
    assert r["rtcp"]["received"] == 40 and r["rtcp"]["dup"] == r["rtcp"]["corrupt"] == 0, r
    for off, (auth, replay) in {0: (35, 28), 1: (7, 5)}.items():
        st = dp_stream(dp, topo, "b", port_b + off)
        assert (st["srtp_auth_fail"], st["srtp_replay"], st["srtp_other"]) == (auth, replay, 0), st
    assert_query_suites(ctl, cid, topo, port_a, port_b, None, GCM128, GCM128, None)
    qs = query_streams(ctl, cid)
    for off, (auth, replay) in {0: (35, 28), 1: (7, 5)}.items():
        st = qs[f"{topo.RELAY_B}:{port_b + off}"]
        assert (st["srtp-auth-fail"], st["srtp-replay"], st["srtp-other"]) == (auth, replay, 0)


# ---- SSRC changes ----

def test_srtp_new_ssrc_mid_call(ctl, dp, topo, udp, srtp_filter):
    """RFC 3711 section 3.2.3: each SSRC has a cryptographic context of its own (rollover
    counter, replay list). A party that changes SSRC (a B2BUA switching sources, music on
    hold) starts a new sequence at a random point (RFC 3550 section 5.1): here 40000 after
    1000 (more than 2^15 ahead), then 10 (behind, beyond the replay window). Every packet
    must still be relayed and decrypt, in both directions of an SRTP <-> plain call."""
    cid = "ssrc-change"
    ka = Key(CM80)
    to_b, to_a, port_a, port_b = offer_answer(
        ctl, topo, cid, sdp(topo.A, 25060, "RTP/SAVP", [(1, ka)]),
        lambda o: sdp(topo.B, 25062), flags="transport-protocol=RTP/AVP")
    _, kr = only_crypto(to_a, CM80)
    e = Ends(udp, topo, 25060, 25062, port_a, port_b)
    prot_a, unprot_a = srtp_filter("protect", ka), srtp_filter("unprotect", kr)
    warm_up(e.a, e.to_a_side, e.b, SSRC_A, protect=prot_a)
    warm_up(e.b, e.to_b_side, e.a, SSRC_B, unprotect=unprot_a)
    for ssrc_off, seq0 in ((1, 40000), (2, 10)):
        pkts = [rtp(seq0 + i, SSRC_A + ssrc_off, b"A ssrc %d pkt %d" % (ssrc_off, i))
                for i in range(20)]
        assert through(e.a, e.to_a_side, e.b, pkts, protect=prot_a) == pkts, \
            f"A's new SSRC starting at sequence {seq0} was not relayed"
        pkts = [rtp(seq0 + i, SSRC_B + ssrc_off, b"B ssrc %d pkt %d" % (ssrc_off, i))
                for i in range(20)]
        for p in pkts:
            e.b.send(e.to_b_side, p)
        got = [d for d, _, _ in e.a.recv(len(pkts), 3.0)]
        assert len(got) == len(pkts), f"B's new SSRC at {seq0}: {len(got)} of {len(pkts)}"
        verdicts = [unprot_a.run(d) for d in got]
        assert [v for v, _ in verdicts] == ["ok"] * len(pkts), \
            f"B's new SSRC at {seq0}: A cannot decrypt what the relay protected: {verdicts}"
        assert [d for _, d in verdicts] == pkts


@pytest.mark.parametrize("leg_b", ["plain", "rekeyed"])
@pytest.mark.parametrize("suite", [CM80, GCM128])
def test_srtp_latches_only_to_authenticated_packets(ctl, dp, topo, udp, srtp_filter, suite,
                                                    leg_b):
    """Latching (the default, no trust-address) learns where a party really sends from.
    On a leg that arrives as SRTP only a packet that authenticates may teach it: forged
    packets from another source (a wrong key, a tampered tag, plain junk) are dropped and
    counted and move nothing, before the first good packet and inside the re-latch window
    after it; the caller's real packets from behind a NAT (another port than its SDP says)
    still latch, and B's media follows them. B's leg is plain, or SRTP with keys of its
    own (the relay unprotects and protects again)."""
    cid = f"latch-auth-{suite}-{leg_b}"
    ka, kb = Key(suite), Key(suite)
    towards_b = {}

    def answer(o):
        if leg_b == "plain":
            return sdp(topo.B, 25072)
        tag, towards_b["key"] = pick(o, suite)
        return sdp(topo.B, 25072, "RTP/SAVP", [(tag, kb)])

    to_b, to_a, port_a, port_b = offer_answer(
        ctl, topo, cid, sdp(topo.A, 25070, "RTP/SAVP", [(1, ka)]), answer,
        flags="transport-protocol=RTP/AVP" if leg_b == "plain" else "")
    _, kr = only_crypto(to_a, suite)
    # What B sends and what it gets: plain, or SRTP under kb and the relay's key for B.
    prot_b = srtp_filter("protect", kb) if leg_b == "rekeyed" else (lambda p: p)
    unprot_b = (srtp_filter("unprotect", towards_b["key"]) if leg_b == "rekeyed"
                else (lambda p: p))
    to_a_side, to_b_side = (topo.RELAY_A, port_a), (topo.RELAY_B, port_b)
    in_sdp = udp(topo.a, topo.A, 25070)  # where A's SDP says it is
    nat = udp(topo.a, topo.A, 25074)     # where A's packets really come from
    evil = udp(topo.a, topo.A, 25076)    # a third party that knows the relay's port
    b = udp(topo.b, topo.B, 25072)
    prot_a, unprot_a = srtp_filter("protect", ka), srtp_filter("unprotect", kr)
    forge = srtp_filter("protect", Key(suite))

    def forged(seq):
        t = bytearray(prot_a(rtp(seq + 1, SSRC_A, b"tampered tag %d" % seq)))
        t[-1] ^= 0x01
        return [forge(rtp(seq, SSRC_A, b"wrong key %d" % seq)), bytes(t),
                rtp(seq + 2, SSRC_A, b"plain junk %d, long enough for a tag" % seq)]

    def attack(seq):
        """Forged packets from evil: none reaches B, each counted as an auth failure."""
        before = dp_stream(dp, topo, "a", port_a)["srtp_auth_fail"]
        for p in forged(seq):
            evil.send(to_a_side, p)
        wait_for(lambda: dp_stream(dp, topo, "a", port_a)["srtp_auth_fail"] - before == 3,
                 3.0, what="3 forged packets counted as srtp_auth_fail")
        assert b.recv(1, 0.2) == []

    def b_reaches(sock, seq):
        """B's next packet arrives at sock (and nowhere else), protected with kr."""
        p = rtp(seq, SSRC_B, b"B->A %d" % seq)
        b.send(to_b_side, prot_b(p))
        got = sock.recv(1, 2.0)
        assert len(got) == 1, f"B's packet {seq} did not reach {sock}"
        assert unprot_a(got[0][0]) == p
        for other in (in_sdp, nat, evil):
            if other is not sock:
                assert other.recv(1, 0.1) == [], "B's media went to the wrong place"

    # Before any good packet: forged packets do not latch; B's media goes where the SDP
    # says (the first probes may wait for ARP).
    attack(10)
    assert not dp_stream(dp, topo, "a", port_a)["latched"]
    warm_up(b, to_b_side, in_sdp, SSRC_B, protect=prot_b, unprotect=unprot_a)
    # A's real packets from behind the NAT authenticate and latch; B's media follows.
    seq = warm_up(nat, to_a_side, b, SSRC_A, protect=prot_a, unprotect=unprot_b)
    assert dp_stream(dp, topo, "a", port_a)["latched"]
    b_reaches(nat, 100)
    # Inside the re-latch window (3 s by default): forged packets move nothing.
    attack(20)
    b_reaches(nat, 101)
    p = rtp(seq, SSRC_A, b"still A")
    nat.send(to_a_side, prot_a(p))
    assert [unprot_b(d) for d, _, _ in b.recv(1, 2.0)] == [p]
