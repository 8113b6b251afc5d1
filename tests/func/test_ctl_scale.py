# 1,000 calls set up through Redis (commands pipelined as many proxies would send them),
# each carried with a packet each way through the real relay, then torn down.
import json
import struct
import time

from control import PREFIX, ctl, ctl_factory, media, redis, sdp  # noqa: F401 (fixtures)
from pkt import rtp, wait_for, warm_up

N = 1000


def run_all(ctl, commands, timeout=60):
    """XADD every (op, fields) pipelined, then collect every reply (BLPOP per key)."""
    cl = ctl.client()
    keys = [f"test:scale:{i}:{time.monotonic_ns()}" for i in range(len(commands))]
    cl.pipeline([["XADD", PREFIX + "commands", "*", *ctl.fields(op, key, **kw)]
                 for (op, kw), key in zip(commands, keys)])
    replies = cl.pipeline([["BLPOP", k, str(timeout)] for k in keys])
    out = []
    for (op, kw), r in zip(commands, replies):
        assert r is not None, f"no reply to {op} {kw.get('call_id')}:\n{ctl.log_tail()}"
        j = json.loads(r[1])
        assert j["result"] == "ok", (op, kw.get("call_id"), j)
        out.append(j)
    return out


def test_thousand_calls(ctl, dp, topo, udp):
    a = udp(topo.a, topo.A, 23000)
    b = udp(topo.b, topo.B, 23002)
    ids = [f"scale-{i}@test" for i in range(N)]
    offers = run_all(ctl, [("offer", dict(call_id=c, from_tag="fa", sdp=sdp(topo.A, 23000),
                                          flags="direction=a,b")) for c in ids])
    answers = run_all(ctl, [("answer", dict(call_id=c, from_tag="fa", to_tag="tb",
                                            sdp=sdp(topo.B, 23002))) for c in ids])
    port_b = [media(o["sdp"])[1] for o in offers]
    port_a = [media(r["sdp"])[1] for r in answers]
    assert len(set(port_a)) == N and len(set(port_b)) == N, "relay ports reused"
    assert len(ctl.calls()) == N
    streams = dp.cli("list")["streams"]
    assert len(streams) >= 2 * N

    # One packet each way per call, tagged with the call's index.
    assert warm_up(a, (topo.RELAY_A, port_a[0]), b), "no media through the relay"
    for i in range(N):
        a.send((topo.RELAY_A, port_a[i]), rtp(i, 0xA0, struct.pack("!I", i) + b"a-to-b"))
        if i % 50 == 49:
            time.sleep(0.005)
    got = b.recv(N, 10.0)
    seen = sorted(struct.unpack("!I", d[12:16])[0] for d, _, _ in got)
    assert seen == list(range(N)), f"A->B: {N - len(set(seen))} calls lost"
    srcs = {s for _, s, _ in got}
    assert srcs == {(topo.RELAY_B, p) for p in port_b}
    for i in range(N):
        b.send((topo.RELAY_B, port_b[i]), rtp(i, 0xB0, struct.pack("!I", i) + b"b-to-a"))
        if i % 50 == 49:
            time.sleep(0.005)
    got = a.recv(N, 10.0)
    seen = sorted(struct.unpack("!I", d[12:16])[0] for d, _, _ in got)
    assert seen == list(range(N)), f"B->A: {N - len(set(seen))} calls lost"

    run_all(ctl, [("delete", dict(call_id=c, from_tag="fa")) for c in ids])
    assert ctl.calls() == []
    assert dp.cli("list")["streams"] == []
    cl = ctl.client()
    assert cl.command("SCARD", PREFIX + "node:node1:calls") == 0
    assert cl.command("KEYS", PREFIX + "call:*") == []
    st = ctl.ok("statistics")["statistics"]
    for i in st["interfaces"]:
        assert i["ports-used"] == 0, i
    wait_for(lambda: ctl.pending() == 0, 5.0, what="every command acknowledged")
