# Restarts: control killed with SIGKILL while media flows (media keeps flowing; the new
# control loads its calls, reconciles the dataplane and finishes its pending commands at
# most once), the dataplane restarted (streams replayed), Redis restarted (control
# reconnects; work done while it was away is committed when it is back).
import json
import signal
import time

from control import PREFIX, ctl, ctl_factory, media, redis, sdp  # noqa: F401 (fixtures)
from pkt import rtp, wait_for, warm_up


def setup_call(c, topo, call_id, a_port, b_port):
    r = c.offer(call_id, "f-" + call_id, sdp(topo.A, a_port))
    port_b = media(r["sdp"])[1]
    r = c.answer(call_id, "f-" + call_id, "t-" + call_id, sdp(topo.B, b_port))
    return media(r["sdp"])[1], port_b


def flows(a, b, dst, n=5, tag=0):
    """n packets from a to dst all arrive at b."""
    bodies = [rtp(tag + i, 0xC0, b"flow-%d" % (tag + i)) for i in range(n)]
    for x in bodies:
        a.send(dst, x)
    return [d for d, _, _ in b.recv(n, 3.0)] == bodies


def streams(dp):
    return {s["local"]: s for s in dp.cli("list")["streams"]}


def test_kill9_while_media_flows(ctl_factory, dp, topo, udp):
    c = ctl_factory()
    cl = c.client()
    a = udp(topo.a, topo.A, 24000)
    b = udp(topo.b, topo.B, 24002)
    calls = {}
    for i in range(10):
        calls[f"k{i}"] = setup_call(c, topo, f"k{i}", 24000, 24002)
    port_a, port_b = calls["k0"]
    assert warm_up(a, (topo.RELAY_A, port_a), b)
    assert flows(a, b, (topo.RELAY_A, port_a), tag=0)
    before = streams(dp)

    c.kill(signal.SIGKILL)
    # Media does not need control.
    assert flows(a, b, (topo.RELAY_A, port_a), tag=100)
    assert flows(b, a, (topo.RELAY_B, port_b), tag=200)
    # While control is away: a stream nobody owns appears in the dataplane, a new command
    # arrives, one command was delivered to this node but never answered, and one was
    # answered (its reply stored) but not acknowledged.
    dp.add(f"{topo.RELAY_A}:39990", f"{topo.RELAY_B}:39992")
    new_id, new_key = c.send("offer", call_id="while-down", from_tag="f",
                             sdp=sdp(topo.A, 24010), flags="direction=a,b")
    pend_id, pend_key = c.send("offer", call_id="pending-1", from_tag="f",
                               sdp=sdp(topo.A, 24020), flags="direction=a,b")
    done_id, done_key = c.send("offer", call_id="answered-before", from_tag="f",
                               sdp=sdp(topo.A, 24030), flags="direction=a,b")
    got = cl.command("XREADGROUP", "GROUP", "rtpanchor", "node1", "COUNT", "3", "STREAMS",
                     PREFIX + "commands", ">")
    assert [e[0].decode() for e in got[0][1]] == [new_id, pend_id, done_id]
    stored = json.dumps({"result": "ok", "sdp": "stored-before-the-crash"})
    cl.command("SET", PREFIX + "reply:" + done_id, stored, "EX", "300")

    c.start()
    assert c.alive()
    # Pending entries were finished first: each answered exactly once, the stored one
    # re-sent instead of applied again.
    assert c.wait_reply(done_key, 5) == json.loads(stored)
    r = c.wait_reply(pend_key, 5)
    assert r["result"] == "ok" and media(r["sdp"])[0] == topo.RELAY_B, r
    r = c.wait_reply(new_key, 5)
    assert r["result"] == "ok", r
    assert cl.command("LLEN", done_key) == 0 and cl.command("LLEN", pend_key) == 0
    assert c.calls() == sorted(list(calls) + ["pending-1", "while-down"])
    assert c.pending() == 0

    # Reconciled: the stray stream is gone, the calls' streams were kept as they were
    # (their counters kept counting across the restart), and media still flows.
    after = streams(dp)
    assert f"{topo.RELAY_A}:39990" not in after
    for local, s in before.items():
        assert local in after, local
        assert after[local]["packets"] >= s["packets"], (local, s, after[local])
    assert after[f"{topo.RELAY_A}:{port_a}"]["packets"] >= before[f"{topo.RELAY_A}:{port_a}"]["packets"] + 5
    assert flows(a, b, (topo.RELAY_A, port_a), tag=300)
    assert "1 removed (owned by no call)" in c.log()
    assert "was redelivered" in c.log()


def test_dataplane_restart_restores_streams(ctl, dp, topo, udp):
    a = udp(topo.a, topo.A, 25000)
    b = udp(topo.b, topo.B, 25002)
    ports = [setup_call(ctl, topo, f"d{i}", 25000, 25002) for i in range(5)]
    before = streams(dp)
    boot = dp.cli("hello")["boot_id"]
    dp.stop()
    dp.start()
    assert dp.cli("hello")["boot_id"] != boot
    wait_for(lambda: set(streams(dp)) == set(before), 10.0, what="every stream replayed")
    for local, s in streams(dp).items():
        assert s["src"] == before[local]["src"], (local, s, before[local])
    port_a, port_b = ports[3]
    assert warm_up(a, (topo.RELAY_A, port_a), b), "no media after the dataplane restart"
    assert flows(b, a, (topo.RELAY_B, port_b), tag=10)
    assert "restarted" in ctl.log() or "connected" in ctl.log()


def test_redis_restart(ctl_factory, dp, redis, topo, udp):
    c = ctl_factory(options=["--delete-delay", "0"])
    a = udp(topo.a, topo.A, 26000)
    b = udp(topo.b, topo.B, 26002)
    port_a, _ = setup_call(c, topo, "r1", 26000, 26002)
    setup_call(c, topo, "r2", 26000, 26002)
    assert warm_up(a, (topo.RELAY_A, port_a), b)
    # r2 is deleted with a delay; the delay runs out while Redis is down.
    c.ok("delete", call_id="r2", from_tag="f-r2", flags="delete-delay=1")
    assert c.calls() == ["r1", "r2"]
    c.reset_client()
    redis.stop()
    assert flows(a, b, (topo.RELAY_A, port_a), tag=20), "media stopped with Redis"
    wait_for(lambda: "no media" in c.log() or "call r2 removed" in c.log(), 10.0,
             what="the delayed delete to run while Redis is down")
    assert c.alive()
    time.sleep(0.5)  # a few reconnect attempts fail meanwhile
    redis.start()
    # Control reconnects by itself; a command sent now is answered.
    wait_for(lambda: "connection restored" in c.log(), 10.0, what="control to reconnect")
    r = c.command("offer", call_id="after", from_tag="f", sdp=sdp(topo.A, 26010),
                  flags="direction=a,b")
    assert r is not None and r["result"] == "ok", r
    assert c.calls() == ["after", "r1"]
    cl = c.client()
    # The removal done while Redis was away was committed once it came back.
    assert cl.command("EXISTS", PREFIX + "call:r2") == 0
    assert cl.command("SISMEMBER", PREFIX + "node:node1:calls", "r2") == 0
    ev = [(e["event"], e.get("call-id"), e.get("reason")) for e in c.events()]
    assert ("call-deleted", "r2", "delete-delay") in ev
    assert cl.command("EXISTS", PREFIX + "call:r1") == 1
    # The loss was logged once, not per retry.
    assert c.log().count("connection lost") == 1, c.log_tail()
    assert flows(a, b, (topo.RELAY_A, port_a), tag=40)


def test_one_stored_reply_per_batch(ctl, topo):
    """Commands read together are committed in one transaction, and only the first of them
    stores its reply (the proof a reconnect checks): fewer writes and less Redis memory,
    while every command still gets its own reply and is acknowledged."""
    cl = ctl.client()
    ctl.kill(signal.SIGSTOP)
    try:
        sent = [ctl.send("offer", call_id=f"batch-{i}", from_tag="f",
                         sdp=sdp(topo.A, 25000 + 2 * i), flags="direction=a,b")
                for i in range(6)]
    finally:
        ctl.kill(signal.SIGCONT)
    replies = {eid: ctl.wait_reply(key, 10) for eid, key in sent}
    assert all(r is not None and r["result"] == "ok" for r in replies.values()), replies
    wait_for(lambda: ctl.pending() == 0, 5.0, what="every command acknowledged")
    stored = {eid: cl.command("GET", PREFIX + "reply:" + eid) for eid, _ in sent}
    stored = {eid: json.loads(v) for eid, v in stored.items() if v is not None}
    # A read blocked in XREADGROUP is answered with the first entry alone; the other five
    # were waiting together, so they come in one more batch (two at most if the read
    # raced the XADDs).
    assert 1 <= len(stored) <= 3, sorted(stored)
    assert sent[0][0] in stored
    for eid, v in stored.items():
        assert v == replies[eid]
    assert ctl.calls() == sorted(f"batch-{i}" for i in range(6))
