# Media through the real relay: A (192.0.2.0/24) <-> relay <-> B (198.51.100.0/24) and C
# (203.0.113.0/24, behind a router). Payload bytes are compared exactly; headers are read
# from raw captures and checked against an independent checksum computation.
import time

import pkt
from pkt import rtp, payload, warm_up, wait_for

# Sizes chosen to cover odd lengths (checksum of the last byte), the smallest RTP packet
# and a full 1500-byte MTU frame (1472 bytes of UDP payload).
SIZES = [8, 9, 47, 148, 160, 161, 999, 1400, 1460]


def send_paced(sock, dst, bodies, gap=0.001):
    for b in bodies:
        sock.send(dst, b)
        time.sleep(gap)


def test_a_to_b_rewritten_and_payload_intact(dp, topo, udp, capture):
    dp.add_call(30000, 30002, b_peer=f"{topo.B}:20002")
    a = udp(topo.a, topo.A, 20000)
    b = udp(topo.b, topo.B, 20002)
    cap = capture(topo.b, "b0")
    assert warm_up(a, (topo.RELAY_A, 30000), b), "nothing crossed the relay from A to B in 5 s"
    bodies = [rtp(i, 0xA1, payload(n, i)) for i, n in enumerate(SIZES)]
    send_paced(a, (topo.RELAY_A, 30000), bodies)
    got = b.recv(len(bodies), 3.0)
    assert [d for d, _, _ in got] == bodies, "payloads lost, reordered or changed"
    assert {src for _, src, _ in got} == {(topo.RELAY_B, 30002)}
    assert {ttl for _, _, ttl in got} == {63}, "TTL not decremented exactly once"

    frames = cap.frames(lambda f: (p := pkt.parse(f)) is not None and p["dport"] == 20002
                        and p["payload"] in bodies, count=len(bodies), timeout=1.0)
    assert len(frames) == len(bodies)
    for f in frames:
        p = pkt.parse(f)
        assert p["ip_csum_ok"], f"bad IPv4 header checksum: {p}"
        assert p["udp_csum_ok"], f"bad UDP checksum {p['udp_csum']:#06x}"
        assert (p["src"], p["sport"], p["dst"]) == (topo.RELAY_B, 30002, topo.B)
        assert p["src_mac"] == topo.macs["dpb"] and p["dst_mac"] == topo.macs["b0"]
        assert p["frag"] & 0x1FFF == 0 and p["ihl"] == 20
        assert p["udp_len"] == 8 + len(p["payload"]) and p["total_len"] == 28 + len(p["payload"])

    st = dp.get(f"{topo.RELAY_A}:30000")
    assert st["latched"] and st["expect"] == f"{topo.A}:20000", st
    assert st["packets"] >= len(bodies) and st["drops"] == 0, st
    assert st["dst"] == f"{topo.B}:20002" and st["src"] == f"{topo.RELAY_B}:30002"


def test_b_answer_reaches_a_by_latching(dp, topo, udp):
    dp.add_call(30010, 30012, b_peer=f"{topo.B}:20012")
    a = udp(topo.a, topo.A, 20010)
    b = udp(topo.b, topo.B, 20012)
    rev = f"{topo.RELAY_B}:30012"
    assert dp.get(rev)["dst"] is None

    # Before A has spoken the reverse stream has no peer: B's media is dropped, counted.
    before = dp.drops("no-peer")
    for i in range(3):
        b.send((topo.RELAY_B, 30012), rtp(i, 0xB0, b"too-early"))
    wait_for(lambda: dp.drops("no-peer") - before == 3, 3.0, what="3 no-peer drops")
    assert a.recv(1, 0.2) == []

    assert warm_up(a, (topo.RELAY_A, 30010), b), "A's media did not reach B"
    wait_for(lambda: dp.get(rev)["dst"] == f"{topo.A}:20010", 2.0,
             what="the reverse stream to learn A's address")
    bodies = [rtp(i, 0xB1, payload(n, 100 + i)) for i, n in enumerate(SIZES)]
    send_paced(b, (topo.RELAY_B, 30012), bodies)
    got = a.recv(len(bodies), 3.0)
    assert [d for d, _, _ in got] == bodies
    assert {src for _, src, _ in got} == {(topo.RELAY_A, 30010)}
    assert {ttl for _, _, ttl in got} == {63}


def test_relatch_within_window_only(dp, topo, udp):
    window_ms = 400
    dp.add_call(30014, 30016, b_peer=f"{topo.B}:20016",
                extra=("--latch-window-ms", str(window_ms)))
    a1 = udp(topo.a, topo.A, 20014)
    a2 = udp(topo.a, topo.A, 20015)
    a3 = udp(topo.a, topo.A, 20017)
    b = udp(topo.b, topo.B, 20016)
    rev = f"{topo.RELAY_B}:30016"
    assert warm_up(a1, (topo.RELAY_A, 30014), b)
    t_latch = time.monotonic()
    # A's NAT binding changes inside the window: the relay follows it.
    a2.send((topo.RELAY_A, 30014), rtp(1, 0xC1, b"moved"))
    assert [d for d, _, _ in b.recv(1, 2.0)] == [rtp(1, 0xC1, b"moved")]
    assert time.monotonic() - t_latch < window_ms / 1000, "machine too slow for this window"
    wait_for(lambda: dp.get(rev)["dst"] == f"{topo.A}:20015", 2.0, what="re-latch to :20015")
    # After the window a new source is forwarded (not strict) but does not steal the peer.
    time.sleep(window_ms / 1000 + 0.2)
    a3.send((topo.RELAY_A, 30014), rtp(2, 0xC1, b"late"))
    assert [d for d, _, _ in b.recv(1, 2.0)] == [rtp(2, 0xC1, b"late")]
    time.sleep(0.2)
    assert dp.get(rev)["dst"] == f"{topo.A}:20015"
    b.send((topo.RELAY_B, 30016), rtp(3, 0xC2, b"answer"))
    assert [d for d, _, _ in a2.recv(1, 2.0)] == [rtp(3, 0xC2, b"answer")]
    assert a3.recv(1, 0.2) == []


def test_rtcp_on_port_plus_one_both_ways(dp, topo, udp):
    dp.add_call(30020, 30022, b_peer=f"{topo.B}:20022")
    dp.add_call(30021, 30023, b_peer=f"{topo.B}:20023")
    a_rtp, a_rtcp = udp(topo.a, topo.A, 20020), udp(topo.a, topo.A, 20021)
    b_rtp, b_rtcp = udp(topo.b, topo.B, 20022), udp(topo.b, topo.B, 20023)
    assert warm_up(a_rtp, (topo.RELAY_A, 30020), b_rtp)
    assert warm_up(a_rtcp, (topo.RELAY_A, 30021), b_rtcp)
    assert warm_up(b_rtcp, (topo.RELAY_B, 30023), a_rtcp)  # resolves A's MAC
    fwd = [pkt.rtcp_rr(0xD1, payload(8, i)) for i in range(5)]
    rev = [pkt.rtcp_rr(0xD2, payload(8, 50 + i)) for i in range(5)]
    send_paced(a_rtcp, (topo.RELAY_A, 30021), fwd)
    got = b_rtcp.recv(5, 2.0)
    assert [d for d, _, _ in got] == fwd
    assert {s for _, s, _ in got} == {(topo.RELAY_B, 30023)}
    send_paced(b_rtcp, (topo.RELAY_B, 30023), rev)
    got = a_rtcp.recv(5, 2.0)
    assert [d for d, _, _ in got] == rev
    assert {s for _, s, _ in got} == {(topo.RELAY_A, 30021)}
    # RTCP stayed on its own streams.
    assert b_rtp.recv(1, 0.2) == [] and a_rtp.recv(1, 0.1) == []
    assert dp.get(f"{topo.RELAY_B}:30023")["dst"] == f"{topo.A}:20021"
    assert dp.get(f"{topo.RELAY_B}:30022")["dst"] == f"{topo.A}:20020"  # learnt separately


def test_gateway_peer_behind_router(dp, topo, udp):
    dp.add_call(30030, 30032, b_peer=f"{topo.C}:20032")
    a = udp(topo.a, topo.A, 20030)
    c = udp(topo.c, topo.C, 20032)
    assert warm_up(a, (topo.RELAY_A, 30030), c), "nothing reached C through the gateway"
    bodies = [rtp(i, 0xE1, payload(n, 200 + i)) for i, n in enumerate(SIZES)]
    send_paced(a, (topo.RELAY_A, 30030), bodies)
    got = c.recv(len(bodies), 3.0)
    assert [d for d, _, _ in got] == bodies
    assert {s for _, s, _ in got} == {(topo.RELAY_B, 30032)}
    assert {t for _, _, t in got} == {62}, "relay and router should each decrement TTL once"
    answer = [rtp(i, 0xE2, payload(300, 300 + i)) for i in range(5)]
    send_paced(c, (topo.RELAY_B, 30032), answer)
    got = a.recv(5, 2.0)
    assert [d for d, _, _ in got] == answer
    assert {s for _, s, _ in got} == {(topo.RELAY_A, 30030)}
    gw = dp.neigh(topo.GW)
    assert gw is not None and gw["mac"] == topo.macs["br0"], gw
    assert dp.neigh(topo.C) is None, "an off-link peer must be reached via the gateway's MAC"


def test_100_streams_no_loss(dp, topo, udp):
    calls = 50  # 100 streams: both directions of 50 calls
    per_stream = 20
    a_socks, b_socks = [], []
    for i in range(calls):
        dp.add_call(31000 + 2 * i, 31200 + 2 * i, b_peer=f"{topo.B}:{21200 + 2 * i}")
        a_socks.append(udp(topo.a, topo.A, 21000 + 2 * i))
        b_socks.append(udp(topo.b, topo.B, 21200 + 2 * i))
    assert len(dp.cli("list")["streams"]) == 2 * calls
    for i in range(calls):  # latch every call; the relay may drop first packets
        assert warm_up(a_socks[i], (topo.RELAY_A, 31000 + 2 * i), b_socks[i]), f"call {i} A->B"
        assert warm_up(b_socks[i], (topo.RELAY_B, 31200 + 2 * i), a_socks[i]), f"call {i} B->A"

    drops_before = dp.media_drops()
    sent = {}
    # 100 packets per round, 10 ms apart: about 5,000 pps across 100 streams.
    for seq in range(per_stream):
        for i in range(calls):
            fa = rtp(seq, 0x1000 + i, payload(160, (i << 16) | seq))
            fb = rtp(seq, 0x2000 + i, payload(160, (i << 16) | seq | 1 << 15))
            a_socks[i].send((topo.RELAY_A, 31000 + 2 * i), fa)
            b_socks[i].send((topo.RELAY_B, 31200 + 2 * i), fb)
            sent.setdefault(("b", i), []).append(fa)
            sent.setdefault(("a", i), []).append(fb)
        time.sleep(0.01)
    lost = []
    for i in range(calls):
        for side, sock in (("b", b_socks[i]), ("a", a_socks[i])):
            got = [d for d, _, _ in sock.recv(per_stream, 3.0)]
            if got != sent[(side, i)]:
                lost.append(f"call {i} to {side}: {len(got)}/{per_stream}")
    assert not lost, f"lost or reordered: {lost[:10]}"
    assert dp.media_drops() == drops_before


def test_first_packets_of_a_stream_stay_in_order(dp, topo, udp):
    # Both neighbours resolved first, so only latching is new for each stream: the packets
    # that arrive while the relay learns the source must not be overtaken by later ones.
    dp.add_call(30300, 30302, b_peer=f"{topo.B}:20300")
    a = udp(topo.a, topo.A, 20300)
    b = udp(topo.b, topo.B, 20300)
    assert warm_up(a, (topo.RELAY_A, 30300), b) and warm_up(b, (topo.RELAY_B, 30302), a)
    orders = []
    for k in range(6):
        dp.add_call(30310 + 2 * k, 30340 + 2 * k, b_peer=f"{topo.B}:{20310 + 2 * k}")
        a2 = udp(topo.a, topo.A, 20310 + 2 * k)
        b2 = udp(topo.b, topo.B, 20310 + 2 * k)
        bodies = [rtp(i, 0x0D + k, payload(100, i)) for i in range(8)]
        for x in bodies:
            a2.send((topo.RELAY_A, 30310 + 2 * k), x)
            time.sleep(0.0002)
        got = [d for d, _, _ in b2.recv(len(bodies), 2.0)]
        orders.append([bodies.index(x) if x in bodies else "?" for x in got])
    assert all(o == list(range(8)) for o in orders), f"arrival order per stream: {orders}"
