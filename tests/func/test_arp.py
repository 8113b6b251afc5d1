# ARP with no static entries anywhere: the relay answers for its media addresses, resolves
# its next hops, announces itself at start, and counts what it cannot deliver.
import struct
import time

import netns
import pkt
from pkt import rtp, warm_up, wait_for


def arp_fields(fr):
    """(op, sender mac, sender ip, target ip) of an ARP frame, else None."""
    if len(fr) < 42 or struct.unpack("!H", fr[12:14])[0] != pkt.ETH_P_ARP:
        return None
    op = struct.unpack("!H", fr[20:22])[0]
    return (op, pkt.mac_str(fr[22:28]), ".".join(map(str, fr[28:32])),
            ".".join(map(str, fr[38:42])))


def test_arp_resolves_without_static_entries(dp, topo, udp):
    # The fixture flushed every kernel cache; the relay starts with an empty table.
    assert netns.neigh_of(topo.a, topo.RELAY_A) is None
    assert dp.cli("neigh")["neighbours"] == []
    dp.add_call(30060, 30062, b_peer=f"{topo.B}:20062")
    a = udp(topo.a, topo.A, 20060)
    b = udp(topo.b, topo.B, 20062)
    assert warm_up(a, (topo.RELAY_A, 30060), b)
    assert warm_up(b, (topo.RELAY_B, 30062), a)

    for ip, mac in ((topo.B, topo.macs["b0"]), (topo.A, topo.macs["a0"])):
        n = wait_for(lambda: (x := dp.neigh(ip)) and x["state"].lower() == "reachable" and x,
                     3.0, what=f"{ip} reachable")
        assert n["mac"].lower() == mac, n
        assert {"ip", "port_id", "mac", "state", "refs", "age_ms", "held", "probes"} <= set(n)
        assert n["held"] == 0 and n["port_id"] == (1 if ip == topo.B else 0), n
    assert dp.port_mac("net_af_packet0") == topo.macs["dpa"]
    assert dp.port_mac("net_af_packet1") == topo.macs["dpb"]
    # The peers' kernels learnt the relay's MACs by ARP.
    for ns, ip, mac in ((topo.a, topo.RELAY_A, topo.macs["dpa"]),
                        (topo.b, topo.RELAY_B, topo.macs["dpb"])):
        n = netns.neigh_of(ns, ip)
        assert n is not None and n.get("lladdr") == mac, (ns, n)


def test_held_packets_released_in_order(dp, topo, udp):
    # B is not resolved yet: the first packets wait for ARP (hold 16 by default) and must
    # come out complete and in order, ahead of the packets sent after resolution.
    dp.add_call(30064, 30066, b_peer=f"{topo.B}:20066")
    a = udp(topo.a, topo.A, 20064)
    b = udp(topo.b, topo.B, 20066)
    bodies = [rtp(i, 0xAB, pkt.payload(100, i)) for i in range(8)]
    for x in bodies:
        a.send((topo.RELAY_A, 30064), x)
        time.sleep(0.001)
    got = [d for d, _, _ in b.recv(len(bodies), 3.0)]
    assert sorted(got) == sorted(bodies), f"{len(got)}/{len(bodies)} arrived"
    assert got == bodies, "held packets overtaken by later ones: " + str(
        [bodies.index(x) for x in got])


def test_relay_answers_arp_request(dp, topo, capture):
    cap = capture(topo.a, "a0", pkt.ETH_P_ARP)
    req = (b"\xff" * 6 + pkt.mac_bytes(topo.macs["a0"]) + struct.pack("!H", pkt.ETH_P_ARP)
           + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + pkt.mac_bytes(topo.macs["a0"])
           + bytes(map(int, topo.A.split("."))) + b"\0" * 6
           + bytes(map(int, topo.RELAY_A.split("."))))
    cap.send(req)
    replies = cap.frames(lambda f: (x := arp_fields(f)) is not None and x[0] == 2, 1, 2.0)
    assert replies, "no ARP reply for the relay's media address"
    op, smac, sip, tip = arp_fields(replies[0])
    assert (smac, sip, tip) == (topo.macs["dpa"], topo.RELAY_A, topo.A)
    assert pkt.mac_str(replies[0][0:6]) == topo.macs["a0"]
    # Not for an address it does not own.
    other = req[:38] + bytes(map(int, "192.0.2.200".split(".")))
    cap.send(other)
    assert cap.frames(lambda f: (x := arp_fields(f)) is not None and x[0] == 2
                      and x[2] == "192.0.2.200", 1, 0.5) == []


def test_gratuitous_arp_at_start(dp_factory, topo, capture):
    cap = capture(topo.a, "a0", pkt.ETH_P_ARP)
    d = dp_factory().start()
    got = cap.frames(lambda f: (x := arp_fields(f)) is not None and x[2] == x[3] == topo.RELAY_A,
                     1, 5.0)
    assert got, "no gratuitous ARP for 192.0.2.1 within 5 s of start"
    assert arp_fields(got[0])[1] == topo.macs["dpa"]
    assert d.alive()


def test_unresolved_next_hop_dropped_and_counted(dp, topo, udp, capture):
    arp = capture(topo.b, "b0", pkt.ETH_P_ARP)
    dp.add(f"{topo.RELAY_A}:30070", f"{topo.RELAY_B}:30072", f"{topo.UNUSED_B}:20072")
    a = udp(topo.a, topo.A, 20070)
    before = dp.drops("neigh-unresolved")
    n = 10
    for i in range(n):
        a.send((topo.RELAY_A, 30070), rtp(i, 0xAA, b"to-nobody"))
        time.sleep(0.05)
    # Held packets are dropped (and counted) once resolution fails; none may vanish.
    wait_for(lambda: dp.drops("neigh-unresolved") - before == n, 6.0,
             what=f"{n} neigh-unresolved drops")
    entry = dp.neigh(topo.UNUSED_B)
    assert entry is not None and entry["mac"] is None, entry
    assert entry["state"].lower() in ("incomplete", "failed"), entry
    reqs = arp.frames(lambda f: (x := arp_fields(f)) is not None and x[0] == 1
                      and x[3] == topo.UNUSED_B, 100, 0.5)
    assert reqs, "the relay never asked for 198.51.100.99"
    assert all(arp_fields(f)[1:3] == (topo.macs["dpb"], topo.RELAY_B) for f in reqs)
    assert len(reqs) <= 8, f"{len(reqs)} ARP requests for {n} packets: not rate-limited"
