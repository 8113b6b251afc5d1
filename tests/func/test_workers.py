# Two workers: the relay's af_packet ports get two queue pairs and the kernel fans received
# packets out over both rx queues by flow hash, while each stream is owned by the worker its
# local port names (port >> 1 modulo the worker count). Streams that land on the other
# worker's queue must cross the hand-off ring to their owner and still arrive intact, in
# order and without loss.
#
# The machine has two CPUs, so `-l 0-2` is refused ("lcore 2 unavailable"): lcore 0 (slow
# path) runs on CPU 0 and both worker lcores on CPU 1 (--lcores 0@0,1@1,2@1); the idle
# back-off the fixture turns on lets them share it. Each stream sends groups of packets
# back to back, so that a hand-off burst carries several packets of one stream and a
# reordering hand-off path would show.
import time

from pkt import rtp, payload, warm_up

LCORES = "0@0,1@1,2@1"


def test_two_workers_hand_off_in_order_without_loss(dp_factory, topo, udp):
    dp = dp_factory(lcores=LCORES, qpairs=2).start()
    st = dp.stats()
    assert len(st["workers"]) == 2, st["workers"]

    calls = 32  # 64 streams, both directions of 32 calls
    rounds, group = 8, 4  # each stream sends groups of 4 back to back: they share bursts
    per_stream = rounds * group
    a_socks, b_socks = [], []
    for i in range(calls):
        dp.add_call(32000 + 2 * i, 32200 + 2 * i, b_peer=f"{topo.B}:{22200 + 2 * i}")
        a_socks.append(udp(topo.a, topo.A, 22000 + 2 * i))
        b_socks.append(udp(topo.b, topo.B, 22200 + 2 * i))
    owners = {dp.get(f"{topo.RELAY_A}:{32000 + 2 * i}")["owner"] for i in range(calls)}
    assert owners == {0, 1}, f"streams should be spread over both owners: {owners}"
    for i in range(calls):  # latch every call; the relay may drop first packets
        assert warm_up(a_socks[i], (topo.RELAY_A, 32000 + 2 * i), b_socks[i]), f"call {i} A->B"
        assert warm_up(b_socks[i], (topo.RELAY_B, 32200 + 2 * i), a_socks[i]), f"call {i} B->A"

    before = dp.stats()
    drops_before = dp.media_drops()
    sent = {}
    # 256 packets per round, 20 ms apart: about 13,000 pps over 64 streams.
    for r in range(rounds):
        for i in range(calls):
            for k in range(group):
                seq = r * group + k
                fa = rtp(seq, 0x3000 + i, payload(160 + i, (i << 16) | seq))
                fb = rtp(seq, 0x4000 + i, payload(172 - i, (i << 16) | seq | 1 << 15))
                a_socks[i].send((topo.RELAY_A, 32000 + 2 * i), fa)
                b_socks[i].send((topo.RELAY_B, 32200 + 2 * i), fb)
                sent.setdefault(("b", i), []).append(fa)
                sent.setdefault(("a", i), []).append(fb)
        time.sleep(0.02)

    bad = []
    for i in range(calls):
        for side, sock in (("b", b_socks[i]), ("a", a_socks[i])):
            got = [d for d, _, _ in sock.recv(per_stream, 3.0)]
            want = sent[(side, i)]
            if got != want:
                order = [want.index(x) if x in want else "?" for x in got]
                bad.append(f"call {i} to {side}: {len(got)}/{per_stream} {order}")
    assert not bad, f"lost, changed or reordered: {bad[:8]}"
    assert dp.media_drops() == drops_before

    after = dp.stats()
    rx = [w1["rx_pkts"] - w0["rx_pkts"] for w0, w1 in zip(before["workers"], after["workers"])]
    handoff = [w1["handoff"] - w0["handoff"] for w0, w1 in zip(before["workers"],
                                                                after["workers"])]
    print(f"rx per worker {rx}, handed off {handoff}")
    assert sum(rx) >= 2 * calls * per_stream, f"rx per worker {rx}"
    assert all(r > 0 for r in rx), f"the kernel gave one rx queue everything: rx {rx}"
    assert all(h > 0 for h in handoff), (f"every worker should receive streams it does not "
                                         f"own: handoff {handoff}, rx {rx}")
