# Who may send into a stream, and what happens after it is deleted: strict-source drops
# a third party (counted) while the right source keeps flowing; del stops forwarding.
import time

import pytest

from pkt import rtp, payload, warm_up, wait_for


@pytest.mark.parametrize("mode", ["expect", "latched"])
def test_strict_source_drops_third_party(dp, topo, udp, mode):
    local = f"{topo.RELAY_A}:30040"
    if mode == "expect":
        # Source given by control, no latching at all.
        dp.add(local, f"{topo.RELAY_B}:30042", f"{topo.B}:20042",
               "--no-latch", "--strict", "--expect", f"{topo.A}:20040")
    else:
        # Learnt from the first packet; a short window so the latch is final quickly.
        dp.add(local, f"{topo.RELAY_B}:30042", f"{topo.B}:20042",
               "--strict", "--latch-window-ms", "50")
    # Without latching nothing is learnt, so control gives the reverse stream its peer.
    dp.add(f"{topo.RELAY_B}:30042", local, f"{topo.A}:20040" if mode == "expect" else None)
    a = udp(topo.a, topo.A, 20040)
    third = udp(topo.a, topo.A2, 20040)  # same port, another address
    third_port = udp(topo.a, topo.A, 20041)  # same address, another port
    b = udp(topo.b, topo.B, 20042)
    assert warm_up(a, (topo.RELAY_A, 30040), b)
    time.sleep(0.2)  # past the latch window

    flags = dp.get(local)["flags"]
    assert "strict" in flags and (("latch" in flags) == (mode == "latched")), flags
    drops0 = dp.drops("src-mismatch")
    stream_drops0 = dp.get(local)["drops"]
    good = []
    for i in range(5):
        third.send((topo.RELAY_A, 30040), rtp(i, 0x666, b"intruder-addr"))
        third_port.send((topo.RELAY_A, 30040), rtp(i, 0x667, b"intruder-port"))
        g = rtp(i, 0xF1, payload(100, i))
        a.send((topo.RELAY_A, 30040), g)
        good.append(g)
        time.sleep(0.002)
    got = b.recv(15, 1.5)
    assert [d for d, _, _ in got] == good, "B must get A's packets and only them"
    wait_for(lambda: dp.drops("src-mismatch") - drops0 >= 10, 2.0, what="10 src-mismatch")
    assert dp.drops("src-mismatch") - drops0 == 10
    st = dp.get(local)
    assert st["drops"] - stream_drops0 == 10, st
    assert st["expect"] == f"{topo.A}:20040", st
    # The intruders did not hijack the reverse direction either.
    assert dp.get(f"{topo.RELAY_B}:30042")["dst"] == f"{topo.A}:20040"


def test_del_stops_forwarding(dp, topo, udp):
    local = f"{topo.RELAY_A}:30050"
    dp.add_call(30050, 30052, b_peer=f"{topo.B}:20052")
    a = udp(topo.a, topo.A, 20050)
    b = udp(topo.b, topo.B, 20052)
    assert warm_up(a, (topo.RELAY_A, 30050), b)
    dp.cli("del", "--local", local)
    before = dp.drops("no-stream")
    for i in range(5):
        a.send((topo.RELAY_A, 30050), rtp(i, 0xF2, b"after-delete"))
    assert b.recv(1, 0.5) == [], "a deleted stream still forwards"
    wait_for(lambda: dp.drops("no-stream") - before >= 5, 2.0, what="5 no-stream drops")
    assert dp.drops("no-stream") - before == 5
    dp.cli("get", "--local", local, expect_rc=1)
    locals_left = [s["local"] for s in dp.cli("list")["streams"]]
    assert locals_left == [f"{topo.RELAY_B}:30052"]
    # Adding it back works at once (the slot is reusable after the grace period).
    dp.add(local, f"{topo.RELAY_B}:30052", f"{topo.B}:20052")
    assert warm_up(a, (topo.RELAY_A, 30050), b), "re-added stream does not forward"
