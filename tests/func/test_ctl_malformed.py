# Hostile commands on the Redis channel: each gets an error reply naming the problem (when
# it has a usable reply-to), is acknowledged, and changes nothing: the call count, the
# dataplane's streams and the stored state of an existing call stay as they were.
import os

from control import PREFIX, ctl, ctl_factory, media, redis, sdp  # noqa: F401 (fixtures)


def snapshot(ctl, dp):
    cl = ctl.client()
    return (ctl.calls(), sorted(s["local"] for s in dp.cli("list")["streams"]),
            cl.command("HGET", PREFIX + "call:keep", "state"),
            sorted(cl.command("SMEMBERS", PREFIX + "node:node1:calls")))


def test_malformed_commands_change_nothing(ctl, dp, topo):
    cl = ctl.client()
    ctl.offer("keep", "f", sdp(topo.A, 22000))
    ctl.answer("keep", "f", "t", sdp(topo.B, 22002))
    before = snapshot(ctl, dp)
    assert before[0] == ["keep"] and len(before[1]) >= 2

    big = "v=0\r\n" + "a=x\r\n" * (1 << 18)  # 1.25 MiB of otherwise plausible SDP
    junk = os.urandom(4096)
    good_sdp = sdp(topo.A, 22010)
    cases = [
        # (fields without reply-to, substring of error-reason)
        (["call-id", "x1", "from-tag", "f"], "missing op"),
        (["op", "offer", "from-tag", "f", "sdp", good_sdp], "missing call-id"),
        (["op", "offer", "call-id", "x2", "sdp", good_sdp], "missing from-tag"),
        (["op", "offer", "call-id", "x3", "from-tag", "f"], "missing sdp"),
        (["op", "delete", "call-id", "keep"], "missing from-tag"),
        (["op", "explode", "call-id", "x4", "from-tag", "f"], "unknown op 'explode'"),
        (["op", b"\xff\x00\x01", "call-id", "x5"], "unknown op"),
        (["op", "offer", "call-id", b"x6\x00\xff", "from-tag", "f", "sdp", good_sdp],
         "call-id contains"),
        (["op", "offer", "call-id", "x7", "from-tag", "f", "sdp", junk], "not UTF-8"),
        (["op", "offer", "call-id", "x8", "from-tag", "f", "sdp", big],
         "sdp too long: 1310725 bytes (limit 65536)"),
        (["op", "offer", "call-id", "x" * 300, "from-tag", "f", "sdp", good_sdp],
         "call-id too long"),
        (["op", "offer", "call-id", "x9", "from-tag", "f", "sdp", good_sdp,
          "flags", "trust-address frobnicate"], "frobnicate"),
        (["op", "offer", "call-id", "x10", "from-tag", "f", "sdp", "hello world"], ""),
        (["op", "answer", "call-id", "nosuchcall", "from-tag", "f", "to-tag", "t",
          "sdp", sdp(topo.B, 22012)], ""),
        (["op", "offer", "op", "delete", "call-id", "x11", "from-tag", "f", "sdp", good_sdp],
         "given twice"),
        (["op", "query", "call-id", "nosuchcall"], "nosuchcall"),
        ([item for i in range(40) for item in (f"x-{i}", "y")] + ["op", "ping"],
         "too many fields"),
    ]
    keys = []
    cmds = []
    for i, (fields, _) in enumerate(cases):
        key = f"test:malformed:{os.getpid()}:{i}"
        keys.append(key)
        cmds.append(["XADD", PREFIX + "commands", "*", *fields, "reply-to", key])
    # Entries nobody can answer: no reply-to, or one naming control's own keys.
    cmds.append(["XADD", PREFIX + "commands", "*", "op", "offer", "call-id", "noreply",
                 "from-tag", "f", "sdp", good_sdp])
    cmds.append(["XADD", PREFIX + "commands", "*", "op", "ping", "reply-to",
                 PREFIX + "call:keep"])
    cmds.append(["XADD", PREFIX + "commands", "*", "op", "ping", "reply-to", b"bad\x00key"])
    for r in cl.pipeline(cmds):
        assert isinstance(r, bytes), r

    for key, (fields, needle) in zip(keys, cases):
        r = ctl.wait_reply(key, timeout=10)
        assert r is not None, f"no reply to {fields[:4]}:\n{ctl.log_tail()}"
        assert r["result"] == "error", (fields[:6], r)
        assert needle in r["error-reason"], (needle, r)
        assert "sdp" not in r

    # The three unanswerable ones were acknowledged too: nothing is left pending.
    assert ctl.command("ping") == {"result": "pong"}
    assert ctl.pending() == 0
    assert cl.command("TYPE", PREFIX + "call:keep") == "hash"
    assert snapshot(ctl, dp) == before
    assert "no usable reply-to" in ctl.log()
    st = ctl.ok("statistics")["statistics"]
    assert st["calls"] == 1


def test_reply_to_of_the_wrong_type(ctl, dp, topo):
    """A reply-to that is not a list cannot receive the reply; control logs it and keeps
    serving, and the command's state is still committed."""
    cl = ctl.client()
    cl.command("HSET", "test:not-a-list", "a", "b")
    eid, _ = ctl.send("offer", reply_to="test:not-a-list", call_id="wt", from_tag="f",
                      sdp=sdp(topo.A, 22020), flags="direction=a,b")
    assert ctl.command("ping") == {"result": "pong"}
    assert ctl.calls() == ["wt"]
    assert cl.command("HGET", PREFIX + "call:wt", "owner") == b"node1"
    assert ctl.pending() == 0
    assert "WRONGTYPE" in ctl.log()
