# The SRTP traffic tools on their own (no relay): rtpanchor-udpgen's libsrtp2 modes between
# two of its own processes on the loopback of a test namespace, and the protect|unprotect
# filter. The relay tests (test_srtp_calls.py) trust these counts, so they are checked
# exactly here for every suite.
import subprocess

import pytest

from srtp import (CM80, GCM128, SUITES, UDPGEN, Key, gen, rtcp_sr, rtp,  # noqa: F401
                  srtp_filter)

LO = "127.0.0.1"


def _bad_packet_run(gen, ns, key, port, count=120, **extra):
    """send --tamper 10 --replay 7 --wrong-key 13 --rtcp-every 5 -> recv; both summaries."""
    rx = gen(ns, "recv", "--bind", f"{LO}:{port}", "--srtp", key.spec(), "--rtcp",
             "--idle-exit", "0.5", "--ssrc-base", 7000).wait_bound(ns, port + 1)
    tx = gen(ns, "send", "--dst", f"{LO}:{port}", "--bind", f"{LO}:{port + 10}",
             "--srtp", key.spec(), "--count", count, "--rate", 2000, "--ssrc-base", 7000,
             "--tamper", 10, "--replay", 7, "--wrong-key", 13, "--rtcp-every", 5,
             *[str(a) for kv in extra.items() for a in kv])
    return tx.result(), rx.result()


@pytest.mark.parametrize("key", [Key(s) for s in SUITES] + [Key(CM80, mki=(7, 2)),
                                                            Key("AES_CM_128_HMAC_SHA1_32",
                                                                mki=(3, 4))],
                         ids=list(SUITES) + ["CM80-MKI", "CM32-MKI"])
def test_udpgen_counts_every_kind_of_bad_packet(topo, gen, key):
    s, r = _bad_packet_run(gen, topo.a, key, 40100)
    # RTP: every 10th tampered, every 7th replayed, every 13th with a wrong key.
    assert (s["sent"], s["tampered"], s["replayed"], s["wrong_key"]) == (120, 12, 17, 9), s
    assert s["srtp"] == {"tx": key.suite, "rx": key.suite, "errors": 0}
    assert r["received"] == 120 + 12 + 17 + 9, r
    assert r["auth_fail"] == 12 + 9 and r["replay"] == 17 and r["srtp_other"] == 0, r
    assert r["lost"] == r["dup"] == r["corrupt"] == r["misrouted"] == 0, r
    # RTCP: 24 SRs, the same rules over the RTCP sequence.
    c, rc = s["rtcp"], r["rtcp"]
    assert (c["sent"], c["tampered"], c["replayed"], c["wrong_key"]) == (24, 2, 3, 1), c
    assert rc["received"] == 24 + 2 + 3 + 1, rc
    assert rc["auth_fail"] == 3 and rc["replay"] == 3 and rc["srtp_other"] == 0, rc
    assert rc["lost"] == rc["dup"] == rc["corrupt"] == 0, rc


def test_udpgen_receiver_with_another_key_accepts_nothing(topo, gen):
    key = Key(GCM128)
    rx = gen(topo.a, "recv", "--bind", f"{LO}:40200", "--srtp", Key(GCM128).spec(), "--rtcp",
             "--idle-exit", "0.5").wait_bound(topo.a, 40201)
    s = gen(topo.a, "send", "--dst", f"{LO}:40200", "--srtp", key.spec(), "--count", 50,
            "--rate", 2000, "--rtcp-every", 10).result()
    r = rx.result()
    assert s["sent"] == 50 and s["rtcp"]["sent"] == 5
    assert r["received"] == 50 and r["auth_fail"] == 50 and r["corrupt"] == 0, r
    assert r["rtcp"]["received"] == 5 and r["rtcp"]["auth_fail"] == 5, r
    assert "latency_us" not in r, "a packet that failed SRTP was accounted as good"


def test_udpgen_plain_receiver_sees_srtp_as_corrupt(topo, gen):
    """Without --srtp-rx the receiver checks ciphertext as RTP: a relay that forwarded SRTP
    where plain RTP is due cannot go unnoticed."""
    rx = gen(topo.a, "recv", "--bind", f"{LO}:40300", "--idle-exit", "0.5").wait_bound(
        topo.a, 40300)
    gen(topo.a, "send", "--dst", f"{LO}:40300", "--srtp-tx", Key(CM80).spec(), "--count", 20,
        "--rate", 2000).result()
    r = rx.result(rc=1)
    assert r["received"] == 20 and r["corrupt"] == 20, r


def test_udpgen_echo_rekeys_across_sequence_wrap(topo, gen):
    """echo unprotects with one key and protects back with another; the sender starts 100
    packets before the 16-bit sequence wraps, so both libsrtp2 sessions move to ROC 1."""
    k_in, k_out = Key(GCM128), Key(CM80)
    echo = gen(topo.a, "echo", "--bind", f"{LO}:40400", "--srtp-rx", k_in.spec(),
               "--srtp-tx", k_out.spec(), "--rtcp", "--streams", 2,
               "--idle-exit", "0.7").wait_bound(topo.a, 40403)
    s = gen(topo.a, "send", "--dst", f"{LO}:40400", "--bind", f"{LO}:40410", "--streams", 2,
            "--srtp-tx", k_in.spec(), "--srtp-rx", k_out.spec(), "--replies", "--count", 400,
            "--rate", 2000, "--seq-base", 65436, "--rtcp-every", 20, "--rtcp-mux",
            "--per-stream").result()
    e = echo.result()
    assert s["sent"] == 400 and s["received"] == 400, s
    assert s["lost"] == s["corrupt"] == s["auth_fail"] == s["replay"] == 0, s
    # Streams take turns in batches, so their counts may differ by a batch.
    srs = sum(p["sent"] // 20 for p in s["per_stream"])
    assert min(p["sent"] for p in s["per_stream"]) > 100, s["per_stream"]
    assert s["rtcp"]["sent"] == srs and s["rtcp"]["received"] == srs, s
    assert s["rtcp"]["corrupt"] == s["rtcp"]["auth_fail"] == 0, s
    assert e["echoed"] == 400 + srs and e["received"] == 400 and e["corrupt"] == 0, e
    assert e["srtp"] == {"tx": CM80, "rx": GCM128, "errors": 0}


@pytest.mark.parametrize("suite", [CM80, GCM128, "AES_256_CM_HMAC_SHA1_32"])
def test_filter_round_trip_and_verdicts(srtp_filter, suite):
    key = Key(suite)
    prot, unprot = srtp_filter("protect", key), srtp_filter("unprotect", key)
    tag = SUITES[suite][2]
    packets = [
        rtp(1, 0x1234, b"plain payload"),
        rtp(2, 0x1234, b"with csrcs", csrcs=(0xC1, 0xC2), marker=True, pt=8),
        rtp(3, 0x1234, b"with an extension", ext=(0xBEDE, b"\x10\xAA\x21\xBB\xCC")),
        rtp(4, 0x1234, b"padded", pad=4),
        rtp(5, 0x1234, b"all", csrcs=(9,), ext=(0x1000, b"abcdefgh"), pad=3),
    ]
    for p in packets:
        c = prot(p)
        assert len(c) == len(p) + tag
        assert c[:12] == p[:12], "the fixed header must stay in clear"
        assert c[len(p) - 4:len(p)] != p[-4:], "payload not encrypted"
        assert unprot(c) == p
    # Replayed, tampered and other-key packets.
    c = prot(rtp(6, 0x1234, b"x" * 40))
    assert unprot(c) == rtp(6, 0x1234, b"x" * 40)
    assert unprot.run(c) == ("replay", None)
    c = bytearray(prot(rtp(7, 0x1234, b"y" * 40)))
    c[20] ^= 1
    assert unprot.run(bytes(c)) == ("auth_fail", None)
    other = srtp_filter("protect", key.wrong())
    assert unprot.run(other(rtp(8, 0x1234, b"z" * 40))) == ("auth_fail", None)
    assert unprot(prot(rtp(8, 0x1234, b"z" * 40))) == rtp(8, 0x1234, b"z" * 40)
    # SRTCP: E flag and index after the encrypted part, then the tag (80 bits for _32);
    # AEAD: the tag is part of the cipher's output, so E and index follow it (RFC 7714
    # section 17).
    sr = rtcp_sr(0x1234, b"rtcp-tag")
    c = prot(sr)
    aead = suite.startswith("AEAD")
    rtcp_tag = 16 if aead else 10
    index_at = len(sr) + (16 if aead else 0)
    assert len(c) == len(sr) + 4 + rtcp_tag and c[:8] == sr[:8]
    ei = int.from_bytes(c[index_at:index_at + 4], "big")
    # libsrtp2 counts the first SRTCP packet 1 (RFC 3711 section 3.4 says 0; receivers
    # take either).
    assert ei >> 31 == 1 and ei & 0x7FFFFFFF in (0, 1), f"E flag and index: {ei:#x}"
    assert c[8:len(sr)] != sr[8:], "SRTCP payload not encrypted"
    assert unprot(c) == sr
    assert unprot.run(c) == ("replay", None)


@pytest.mark.parametrize("args,needle", [
    (["send", "--dst", "127.0.0.1:9", "--count", "1", "--srtp", "AES_CM_128:AAAA"],
     "AES_CM_128"),
    (["send", "--dst", "127.0.0.1:9", "--count", "1", "--srtp", CM80 + ":" + "A" * 20],
     "key||salt of 15 bytes"),
    (["send", "--dst", "127.0.0.1:9", "--count", "1", "--srtp",
      Key(CM80).spec() + "|300:1"], "300:1"),
    (["send", "--dst", "127.0.0.1:9", "--count", "1", "--srtp", CM80 + ":not*base64"],
     "not*base64"),
    (["send", "--dst", "127.0.0.1:9", "--count", "1", "--tamper", "3"], "--tamper"),
    (["recv", "--bind", "127.0.0.1:9", "--idle-exit", "1", "--srtp-tx", Key(CM80).spec()],
     "--srtp-tx"),
    (["unprotect"], "usage"),
])
def test_udpgen_srtp_usage_errors(args, needle):
    p = subprocess.run([UDPGEN, *args], capture_output=True, text=True, timeout=10)
    assert p.returncode == 2, (args, p.stdout, p.stderr)
    assert needle in p.stderr, (args, p.stderr)


def test_udpgen_help_states_the_libsrtp2_cost():
    p = subprocess.run([UDPGEN, "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0
    text = " ".join(p.stdout.split())
    assert "NSS" in text and "5,700 cycles" in text and "not for measuring" in text
    for s in SUITES:
        assert s in text
