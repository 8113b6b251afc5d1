# Timers of rtpanchor-control: media timeout (event once; with --media-timeout-delete the
# call goes), final timeout, delete-delay.
import time

from control import PREFIX, ctl, ctl_factory, media, redis, sdp  # noqa: F401 (fixtures)
from pkt import rtp, wait_for, warm_up


def setup_call(c, topo, call_id, a_port, b_port):
    r = c.offer(call_id, "f-" + call_id, sdp(topo.A, a_port))
    port_b = media(r["sdp"])[1]
    r = c.answer(call_id, "f-" + call_id, "t-" + call_id, sdp(topo.B, b_port))
    return media(r["sdp"])[1], port_b


def events(c, kind):
    return [(e.get("call-id"), e.get("reason")) for e in c.events() if e["event"] == kind]


def test_media_timeout_event_once(ctl_factory, dp, topo, udp):
    c = ctl_factory(options=["--media-timeout", "1"])
    a = udp(topo.a, topo.A, 27000)
    b = udp(topo.b, topo.B, 27002)
    setup_call(c, topo, "silent", 27000, 27002)
    port_t, _ = setup_call(c, topo, "talking", 27000, 27002)
    # "talking" gets media for the whole test; "silent" none.
    assert warm_up(a, (topo.RELAY_A, port_t), b)
    deadline = time.monotonic() + 3.5
    i = 0
    while time.monotonic() < deadline:
        a.send((topo.RELAY_A, port_t), rtp(i, 0xD0, b"talk"))
        i += 1
        time.sleep(0.1)
    assert events(c, "media-timeout") == [("silent", None)], c.events()
    assert c.calls() == ["silent", "talking"]  # no auto-delete without the option
    e = [x for x in c.events() if x["event"] == "media-timeout"][0]
    assert int(e["idle-ms"]) >= 1000 and e["node"] == "node1"


def test_media_final_and_delayed_delete(ctl_factory, dp, topo, udp):
    c = ctl_factory(options=["--media-timeout", "2", "--media-timeout-delete",
                             "--final-timeout", "4"])
    cl = c.client()
    a = udp(topo.a, topo.A, 27100)
    b = udp(topo.b, topo.B, 27102)
    setup_call(c, topo, "quiet", 27100, 27102)
    port_a, _ = setup_call(c, topo, "old", 27100, 27102)
    setup_call(c, topo, "later", 27100, 27102)
    assert warm_up(a, (topo.RELAY_A, port_a), b)
    c.ok("delete", call_id="later", from_tag="f-later", flags="delete-delay=1")
    # Right after a delayed delete the call is still there.
    assert "later" in c.calls()

    deadline = time.monotonic() + 8
    i = 0
    while time.monotonic() < deadline and c.calls():
        a.send((topo.RELAY_A, port_a), rtp(i, 0xD1, b"keep-old-busy"))
        i += 1
        time.sleep(0.1)
    assert c.calls() == []
    deleted = dict(events(c, "call-deleted"))
    assert deleted == {"quiet": "media-timeout", "old": "final-timeout",
                       "later": "delete-delay"}, deleted
    assert ("quiet", None) in events(c, "media-timeout")
    assert ("old", None) not in events(c, "media-timeout")
    assert dp.cli("list")["streams"] == []
    assert cl.command("SCARD", PREFIX + "node:node1:calls") == 0
    wait_for(lambda: cl.command("KEYS", PREFIX + "call:*") == [], 2.0, what="state removed")
