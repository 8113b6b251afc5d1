# Hostile frames sent onto the wire at the relay's port: each is dropped under its own
# counted reason and nothing of it reaches the peer; a well-formed frame built the same
# way is forwarded, so the drops are the relay's judgement and not the builder's.
import pkt
from pkt import rtp, warm_up, wait_for

# (name, accepted drop reasons, frame builder arguments) - every frame has exactly one flaw.
# No fragments here: the af_packet PMD joins a PACKET_FANOUT group with
# PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles (or holds) fragments before the relay
# sees them; tests/unit covers the fragment checks of the classifier.
CASES = [
    ("bad IP checksum", {"ip-csum"}, dict(bad_ip_csum=True)),
    ("IP options", {"ip-options"}, dict(options=b"\x01\x01\x01\x00")),
    ("UDP length too long", {"udp-len"}, dict(udp_len_delta=4)),
    ("UDP length too short", {"udp-len"}, dict(udp_len_delta=-4)),
    ("IP length beyond frame", {"ip-len"}, dict(ip_len_delta=40)),
    ("TTL 1", {"ttl-expired"}, dict(ttl=1)),
    ("IP version 6 in IPv4 ethertype", {"ip-version"}, dict(version=6)),
    ("TCP", {"not-udp"}, dict(proto=6)),
    ("IPv6 ethertype", {"not-ip"}, dict(ethertype=0x86DD)),
    ("not our address", {"not-our-addr"}, dict(dst="192.0.2.99")),
    ("subnet broadcast", {"ip-broadcast", "not-our-addr"}, dict(dst="192.0.2.255")),
    ("no stream on port", {"no-stream"}, dict(dport=30999)),
    ("other unicast MAC", {"l2-not-us"}, dict(dst_mac="02:00:00:00:00:99")),
    ("IP in broadcast frame", {"l2-broadcast"}, dict(dst_mac="ff:ff:ff:ff:ff:ff")),
]


def test_malformed_frames_dropped_and_counted(dp, topo, udp, capture):
    dp.add_call(30080, 30082, b_peer=f"{topo.B}:20080")
    a = udp(topo.a, topo.A, 20080)
    b = udp(topo.b, topo.B, 20080)
    assert warm_up(a, (topo.RELAY_A, 30080), b)  # resolves B, latches A's source
    wire = capture(topo.a, "a0")
    relay_mac = topo.macs["dpa"]
    tx_before = {p["name"]: p["tx_pkts"] for p in dp.stats()["ports"]}

    def build(i, **kw):
        args = dict(src_mac=topo.macs["a0"], dst_mac=relay_mac, src=topo.A, sport=20080,
                    dst=topo.RELAY_A, dport=30080,
                    payload=rtp(i, 0xBAD, pkt.payload(64, i)))
        args.update(kw)
        return pkt.frame(**args)

    failures = []
    for i, (name, reasons, kw) in enumerate(CASES):
        before = dp.stats()["drops"]
        wire.send(build(i, **kw))
        try:
            wait_for(lambda: any(dp.drops(r) > before[r]["total"] for r in reasons), 2.0,
                     what=f"a drop counted as {'/'.join(sorted(reasons))}")
        except AssertionError as e:
            after = dp.stats()["drops"]
            changed = {r: after[r]["total"] - before[r]["total"] for r in after
                       if after[r]["total"] != before[r]["total"]}
            failures.append(f"{name}: {e}; counters changed: {changed}")
            continue
        after = dp.stats()["drops"]
        changed = {r: after[r]["total"] - before[r]["total"] for r in after
                   if after[r]["total"] != before[r]["total"]
                   and (r != "l2-broadcast" or r in reasons)}  # see Dataplane.media_drops
        if sum(changed.values()) != 1:
            failures.append(f"{name}: one frame changed the counters by {changed}")
    leaked = b.recv(1, 0.5)
    assert not leaked, f"a malformed frame was forwarded: {leaked}"
    tx_after = {p["name"]: p["tx_pkts"] for p in dp.stats()["ports"]}
    assert tx_after == tx_before, "the relay transmitted media for malformed frames"
    assert not failures, "\n".join(failures)

    good = rtp(99, 0x600D, pkt.payload(333, 99))
    wire.send(build(99, payload=good))
    assert [d for d, _, _ in b.recv(1, 2.0)] == [good], "a well-formed raw frame was not forwarded"


def test_truncated_frame_dropped(dp, topo, capture):
    wire = capture(topo.a, "a0")
    fr = pkt.frame(topo.macs["a0"], topo.macs["dpa"], topo.A, 20081, topo.RELAY_A, 30081,
                   b"x" * 40)
    before = dp.drops("too-short") + dp.drops("ip-len")
    wire.send(fr[:14 + 12])  # Ethernet header and 12 bytes of an IPv4 header
    wait_for(lambda: dp.drops("too-short") + dp.drops("ip-len") > before, 2.0,
             what="a too-short drop")
    assert dp.alive()
