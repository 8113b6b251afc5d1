# rtpanchor-control end to end: commands through a real Redis, calls programmed into the
# real dataplane, RTP through the relay both ways, query counters, delete, state and
# events in Redis, heartbeat, signals.
import json
import signal

from control import PREFIX, ctl, ctl_factory, media, redis, sdp  # noqa: F401 (fixtures)
from pkt import payload, rtp, wait_for, warm_up


def dp_streams(dp):
    return dp.cli("list")["streams"]


def setup_call(ctl, topo, call_id, a_port, b_port, flags="direction=a,b"):
    """Offer from A, answer from B; returns (relay port A side, relay port B side)."""
    r = ctl.offer(call_id, "from-" + call_id, sdp(topo.A, a_port), flags=flags)
    addr_b, port_b = media(r["sdp"])
    assert addr_b == topo.RELAY_B, r["sdp"]
    r = ctl.answer(call_id, "from-" + call_id, "to-" + call_id, sdp(topo.B, b_port))
    addr_a, port_a = media(r["sdp"])
    assert addr_a == topo.RELAY_A, r["sdp"]
    return port_a, port_b


def test_offer_answer_media_query_delete(ctl, dp, topo, udp):
    cl = ctl.client()
    assert ctl.command("ping") == {"result": "pong"}
    a = udp(topo.a, topo.A, 21000)
    b = udp(topo.b, topo.B, 21002)

    r = ctl.offer("call-1", "ft1", sdp(topo.A, 21000))
    addr_b, port_b = media(r["sdp"])
    assert addr_b == topo.RELAY_B and 30000 <= port_b <= 39999 and port_b % 2 == 0, r
    assert "warning" not in r, r
    # The state is in Redis before the reply.
    assert cl.command("HGET", PREFIX + "call:call-1", "owner") == b"node1"
    state = json.loads(cl.command("HGET", PREFIX + "call:call-1", "state"))
    assert isinstance(state, dict)
    assert cl.command("SISMEMBER", PREFIX + "node:node1:calls", "call-1") == 1

    r = ctl.answer("call-1", "ft1", "tt1", sdp(topo.B, 21002))
    addr_a, port_a = media(r["sdp"])
    assert addr_a == topo.RELAY_A and port_a % 2 == 0, r
    assert len(dp_streams(dp)) >= 2

    # A -> B and B -> A through the relay, payloads intact, sources rewritten.
    assert warm_up(a, (topo.RELAY_A, port_a), b), "A's media did not reach B"
    bodies = [rtp(i, 0xA1, payload(160, i)) for i in range(20)]
    for x in bodies:
        a.send((topo.RELAY_A, port_a), x)
    got = b.recv(len(bodies), 3.0)
    assert [d for d, _, _ in got] == bodies
    assert {s for _, s, _ in got} == {(topo.RELAY_B, port_b)}
    back = [rtp(i, 0xB1, payload(172, 1000 + i)) for i in range(20)]
    for x in back:
        b.send((topo.RELAY_B, port_b), x)
    got = a.recv(len(back), 3.0)
    assert [d for d, _, _ in got] == back
    assert {s for _, s, _ in got} == {(topo.RELAY_A, port_a)}

    # query: per stream counters from the dataplane.
    q = ctl.ok("query", call_id="call-1")
    assert q["call-id"] == "call-1" and q["owner"] == "node1"
    by_local = {s["local"]: s for s in q["streams"]}
    fwd = by_local[f"{topo.RELAY_A}:{port_a}"]
    rev = by_local[f"{topo.RELAY_B}:{port_b}"]
    assert fwd["installed"] and rev["installed"]
    assert fwd["packets"] >= 20 and fwd["bytes"] >= sum(len(x) for x in bodies), fwd
    assert rev["packets"] == 20 and rev["bytes"] == sum(len(x) for x in back), rev
    assert fwd["peer"] == f"{topo.B}:21002" and rev["peer"] == f"{topo.A}:21000"
    assert fwd["last-seen"] is not None and fwd["drops"] == 0
    assert q["totals"]["packets"] >= 40

    assert ctl.calls() == ["call-1"]
    st = ctl.ok("statistics")["statistics"]
    assert st["calls"] == 1 and st["node"] == "node1"
    assert st["dataplane"]["up"] is True and st["dataplane"]["streams"] == len(dp_streams(dp))
    assert {i["name"] for i in st["interfaces"]} == {"a", "b"}
    assert st["commands"]["offer"] == 1 and st["commands"]["answer"] == 1

    # Metrics: commands counted by op and result once committed; gauges refreshed by the
    # once-a-second timer.
    wait_for(lambda: 'rtpanchor_calls 1' in ctl.metrics(), 5.0, what="the calls gauge")
    text = ctl.metrics()
    assert 'rtpanchor_commands_total{op="offer",result="ok"} 1' in text, text
    assert 'rtpanchor_commands_total{op="answer",result="ok"} 1' in text
    assert 'rtpanchor_dataplane_up 1' in text and 'rtpanchor_redis_up 1' in text

    # delete: forwarding stops, the state and the streams are gone.
    ctl.delete("call-1", "ft1")
    assert ctl.calls() == []
    assert dp_streams(dp) == []
    assert cl.command("EXISTS", PREFIX + "call:call-1") == 0
    assert cl.command("SISMEMBER", PREFIX + "node:node1:calls", "call-1") == 0
    a.send((topo.RELAY_A, port_a), rtp(99, 0xA1, b"after-delete"))
    assert b.recv(1, 0.5) == []
    r = ctl.command("query", call_id="call-1")
    assert r["result"] == "error" and "call-1" in r["error-reason"]

    ev = [(e["event"], e.get("call-id"), e.get("reason")) for e in ctl.events()]
    assert ("node-up", None, None) in ev
    assert ev.count(("call-created", "call-1", None)) == 1
    assert ev.count(("call-deleted", "call-1", "delete")) == 1
    # Every command was acknowledged, and the stream is trimmed behind them.
    assert ctl.pending() == 0
    wait_for(lambda: cl.command("XLEN", PREFIX + "commands") == 0, 5.0,
             what="the command stream to be trimmed")


def test_heartbeat_and_sigterm(ctl, dp):
    cl = ctl.client()
    hb = json.loads(cl.command("GET", PREFIX + "node:node1"))
    assert hb["node"] == "node1" and hb["dataplane"] is True and hb["calls"] == 0
    assert 0 < cl.command("TTL", PREFIX + "node:node1") <= 10
    ctl.kill(signal.SIGTERM)
    assert ctl.wait(10) == 0
    assert [e["event"] for e in ctl.events()][-1] == "node-down"


def test_second_signal_exits_at_once(ctl_factory, dp):
    c = ctl_factory()
    c.kill(signal.SIGINT)
    c.kill(signal.SIGINT)
    assert c.wait(5) in (0, 1)


def test_dataplane_down_replies_with_warning(ctl_factory, dp, topo):
    """With the dataplane away the call is accepted with a warning and installed once the
    dataplane is back."""
    c = ctl_factory()
    dp.stop()
    r = c.offer("dpdown", "f", sdp(topo.A, 21010))
    assert "dataplane" in r.get("warning", ""), r
    r = c.answer("dpdown", "f", "t", sdp(topo.B, 21012))
    assert "warning" in r
    dp.start()
    wait_for(lambda: len(dp_streams(dp)) >= 2, 10.0, what="streams replayed")
    q = c.ok("query", call_id="dpdown")
    assert all(s["installed"] for s in q["streams"]), q


def test_bad_options_exit_2(tmp_path):
    import subprocess
    from control import CONTROL
    for args, needle in ((["--interface", "pub=300.0.0.1"], "300.0.0.1"),
                         (["--interface", "a=192.0.2.1", "--port-min", "1"], "--port-min"),
                         (["--redis-password", "x", "--interface", "a=192.0.2.1"],
                          "--redis-password")):
        p = subprocess.run([CONTROL, *args], capture_output=True, text=True, timeout=10)
        assert p.returncode == 2, (args, p.stderr)
        assert needle in p.stderr, (args, p.stderr)
    p = subprocess.run([CONTROL, "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and "--media-timeout" in p.stdout
    p = subprocess.run([CONTROL, "--version"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0 and "rtpanchor-control" in p.stdout


def test_unix_socket_acl_user_from_environment(ctl_factory, redis, dp):
    """An ACL user and password from the environment over Redis's Unix socket; a wrong
    password is refused, retried with backoff and never logged."""
    cl = redis.client()
    cl.command("ACL", "SETUSER", "relay", "on", ">s3cret-pw", "~*", "&*", "+@all")
    cl.command("ACL", "SETUSER", "default", "off")
    bad = ctl_factory(node="bad", start=False, redis_arg=redis.unix,
                      env={"RTPANCHOR_REDIS_USER": "relay",
                           "RTPANCHOR_REDIS_PASSWORD": "wrong-pw"})
    bad.start(wait=False)
    wait_for(lambda: "AUTH refused" in bad.log(), 5.0, what="AUTH to be refused")
    assert bad.alive()
    assert "wrong-pw" not in bad.log()
    assert bad.stop() == 0

    good = ctl_factory(node="good", start=False, redis_arg=redis.unix,
                       env={"RTPANCHOR_REDIS_USER": "relay",
                            "RTPANCHOR_REDIS_PASSWORD": "s3cret-pw"})
    good.redis = _AuthedRedis(redis, "relay", "s3cret-pw")
    good.start()
    assert good.command("ping") == {"result": "pong"}
    assert "s3cret-pw" not in good.log()
    assert "unix:" + redis.unix in good.log()


class _AuthedRedis:
    """The test's own connection logs in as the ACL user too."""

    def __init__(self, server, user, password):
        self.server = server
        self.user = user
        self.password = password
        self.port = server.port

    def client(self):
        c = self.server.client()
        c.command("AUTH", self.user, self.password)
        return c
