# The premises the relay tests stand on, checked with kernel endpoints only: the topology
# connects what it claims, the frame builder writes checksums a kernel accepts, and a
# receiving kernel really rejects a bad UDP checksum (so a relay that wrote one would
# lose the packet instead of passing the test).
import pkt


def test_bridge_and_router_carry_kernel_udp(topo, udp):
    # b <-> r over the bridge, c <-> r over the routed link.
    for ns, src_ip, port in ((topo.b, topo.B, 41000), (topo.c, topo.C, 41001)):
        r = udp(topo.r, "0.0.0.0", port)
        s = udp(ns, src_ip, port)
        s.send((topo.GW if ns == topo.b else topo.C_GW, port), b"ping")
        got = r.recv(1, 2.0)
        assert [(d, a[0]) for d, a, _ in got] == [(b"ping", src_ip)]


def test_kernel_sends_complete_checksums(topo, udp, capture):
    cap = capture(topo.b, "b0")
    sender = udp(topo.r, topo.GW, 41010)
    udp(topo.b, topo.B, 41011)
    body = pkt.payload(333, 1)
    sender.send((topo.B, 41011), body)
    frames = cap.frames(lambda f: (p := pkt.parse(f)) is not None and p["dport"] == 41011)
    assert frames, "no frame captured on b0"
    p = pkt.parse(frames[0])
    # With tx checksum offload left on, veth would carry a partial checksum here.
    assert p["ip_csum_ok"] and p["udp_csum_ok"], p
    assert p["payload"] == body


def test_built_frames_accepted_and_bad_checksum_rejected(topo, udp, capture):
    rx = udp(topo.r, topo.GW, 41020)
    tx = capture(topo.b, "b0")
    src_mac, dst_mac = topo.macs["b0"], topo.macs["br0"]
    good = pkt.payload(101, 2)
    bad = pkt.payload(101, 3)
    fr_bad = bytearray(pkt.frame(src_mac, dst_mac, topo.B, 41021, topo.GW, 41020, bad))
    fr_bad[-1] ^= 0xFF  # payload changed after the checksum was computed
    # The router must know b's MAC to answer nothing; only reception matters here.
    tx.send(bytes(fr_bad))
    tx.send(pkt.frame(src_mac, dst_mac, topo.B, 41021, topo.GW, 41020, good))
    got = rx.recv(2, 1.0)
    assert [d for d, _, _ in got] == [good]
    assert got[0][2] == 64  # TTL as sent, reported through IP_RECVTTL
    p = pkt.parse(pkt.frame(src_mac, dst_mac, topo.B, 1, topo.GW, 2, good, ttl=9))
    assert p["ip_csum_ok"] and p["udp_csum_ok"] and p["ttl"] == 9 and p["payload"] == good
