# The rtpanchor CLI against a live dataplane: every subcommand's --json output parses and
# says what the dataplane holds; exit codes 0 ok, 1 dataplane error, 2 usage, 3 unreachable.
import json
import os
import re
import socket

import dataplane
import dpctl


def drop_reason_names():
    """The operator-visible drop reason names, read from the X-macro list itself."""
    with open(os.path.join(dataplane.ROOT, "dataplane", "counters.h")) as f:
        return set(re.findall(r'^\s*X\(\w+,\s*"([a-z0-9-]+)"', f.read(), re.M))


def test_every_subcommand_json(dp, topo):
    t = topo
    hello = dp.cli("hello")
    assert hello["pid"] == dp.pid and hello["version"] == dpctl.VERSION, hello
    assert dp.cli("add", "--local", f"{t.RELAY_A}:30100", "--src", f"{t.RELAY_B}:30102",
                  "--dst", f"{t.B}:20102", "--tag", "42") is not None
    dp.cli("add", "--local", f"{t.RELAY_B}:30102", "--src", f"{t.RELAY_A}:30100",
           "--no-latch", "--strict", "--expect", f"{t.B}:20102", "--tag", "0x2b",
           "--latch-window-ms", "777")
    g = dp.cli("get", "--local", f"{t.RELAY_A}:30100")
    assert {"local", "src", "dst", "expect", "flags", "latch_window_ms", "tag", "packets",
            "bytes", "drops", "idle_ms", "owner", "latched"} <= set(g), g
    assert (g["src"], g["dst"], g["expect"], g["flags"], g["tag"]) == (
        f"{t.RELAY_B}:30102", f"{t.B}:20102", None, ["latch"], 42)
    assert g["latched"] is False and g["packets"] == 0 and g["idle_ms"] is None, g
    g2 = dp.cli("get", "--local", f"{t.RELAY_B}:30102")
    assert (g2["dst"], g2["expect"], g2["flags"], g2["tag"], g2["latch_window_ms"]) == (
        None, f"{t.B}:20102", ["strict"], 43, 777)
    lst = dp.cli("list")
    assert len(lst["streams"]) == 2
    assert {s["local"] for s in lst["streams"]} == {f"{t.RELAY_A}:30100", f"{t.RELAY_B}:30102"}

    st = dp.cli("stats")
    assert st["streams"] == 2 and st["streams_max"] >= 65536, st
    assert [p["name"] for p in st["ports"]] == ["net_af_packet0", "net_af_packet1"]
    assert [p["port_id"] for p in st["ports"]] == [0, 1]
    assert len(st["workers"]) == 1 and st["workers"][0]["lcore"] == 1, st["workers"]
    assert set(st["drops"]) == drop_reason_names()
    for reason, d in st["drops"].items():
        assert len(d["per_port"]) == 2 and len(d["per_worker"]) == 1, (reason, d)

    assert isinstance(dp.cli("neigh")["neighbours"], list)

    dp.cli("del", "--local", f"{t.RELAY_B}:30102")
    assert dp.cli("stats")["streams"] == 1
    fl = dp.cli("flush")
    assert fl["deleted"] == 1, fl
    assert dp.cli("list")["streams"] == []


def test_flush_by_tag(dp, topo):
    for i in range(3):
        dp.cli("add", "--local", f"{topo.RELAY_A}:{30110 + i}", "--src",
               f"{topo.RELAY_B}:{30120 + i}", "--tag", "7")
    dp.cli("add", "--local", f"{topo.RELAY_A}:30113", "--src", f"{topo.RELAY_B}:30123",
           "--tag", "8")
    assert dp.cli("flush", "--tag", "7")["deleted"] == 3
    assert [s["local"] for s in dp.cli("list")["streams"]] == [f"{topo.RELAY_A}:30113"]
    assert dp.cli("flush", "--tag", "7")["deleted"] == 0
    assert dp.cli("flush")["deleted"] == 1


def test_list_pages_through_many_streams(dp, topo):
    # More streams than fit one reply (65536 / 296 bytes): the CLI must follow the cursor.
    n = 1000
    c = dpctl.Client(dp.socket)
    for i in range(n):
        r = c.call(dpctl.STREAM_ADD, dpctl.stream(f"{topo.RELAY_A}:{32000 + i}",
                                                  f"{topo.RELAY_B}:{34000 + i}"), seq=i)
        assert r.status == 0, r
    locals_ = [s["local"] for s in dp.cli("list")["streams"]]
    assert len(locals_) == n and len(set(locals_)) == n
    assert set(locals_) == {f"{topo.RELAY_A}:{32000 + i}" for i in range(n)}
    assert dp.cli("stats")["streams"] == n
    assert dp.cli("flush")["deleted"] == n


USAGE_ERRORS = [
    [],
    ["dataplane"],
    ["dataplane", "bogus"],
    ["bogus"],
    ["--bogus"],
    ["dataplane", "add"],
    ["dataplane", "add", "--local", "192.0.2.1:30000"],
    ["dataplane", "add", "--local", "192.0.2.1:0", "--src", "198.51.100.1:30002"],
    ["dataplane", "add", "--local", "192.0.2.1:65536", "--src", "198.51.100.1:30002"],
    ["dataplane", "add", "--local", "not-an-ip:1", "--src", "198.51.100.1:30002"],
    ["dataplane", "add", "--local", "192.0.2.1", "--src", "198.51.100.1:30002"],
    ["dataplane", "add", "--local", "192.0.2.1:1", "--src", "198.51.100.1:2", "--tag", "x"],
    ["dataplane", "add", "--local", "192.0.2.1:1", "--src", "198.51.100.1:2", "--tag", "-1"],
    ["dataplane", "add", "--local", "192.0.2.1:1", "--src", "198.51.100.1:2",
     "--latch-window-ms", "1e3"],
    ["dataplane", "add", "--local", "192.0.2.1:1", "--src", "198.51.100.1:2", "--frobnicate"],
    ["dataplane", "add", "--local", "192.0.2.1:1", "--src", "198.51.100.1:2", "extra"],
    ["dataplane", "get"],
    ["dataplane", "del", "--local"],
    ["dataplane", "flush", "--tag", "seven"],
    ["dataplane", "list", "--local", "192.0.2.1:1"],
]


def test_usage_errors_exit_2(dp, topo):
    dp.cli("add", "--local", f"{topo.RELAY_A}:30130", "--src", f"{topo.RELAY_B}:30132")
    bad = []
    for args in USAGE_ERRORS:
        p = dp.cli_raw(*args)
        if p.returncode != 2 or not p.stderr.strip():
            bad.append(f"{args}: exit {p.returncode}, stderr {p.stderr.strip()!r}")
    assert not bad, "\n".join(bad)
    assert dp.cli("stats")["streams"] == 1, "a usage error changed the dataplane"


def test_dataplane_errors_exit_1(dp, topo):
    for args in (["get", "--local", f"{topo.RELAY_A}:30999"],
                 ["del", "--local", f"{topo.RELAY_A}:30999"],
                 ["add", "--local", "203.0.113.5:30000", "--src", f"{topo.RELAY_B}:30002"],
                 ["add", "--local", f"{topo.RELAY_A}:30000", "--src", "192.0.2.77:30002"],
                 ["add", "--local", f"{topo.RELAY_A}:30000", "--src", f"{topo.RELAY_B}:30002",
                  "--no-latch", "--strict"]):
        p = dp.cli(*args, expect_rc=1)
        assert p.stderr.strip(), args
        # With --json the error is an object on stdout as well.
        assert isinstance(json.loads(p.stdout), dict), (args, p.stdout)
    assert dp.cli("stats")["streams"] == 0


def test_unreachable_exits_3(dp, tmp_path):
    stale = str(tmp_path / "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(stale)
    s.close()  # the file stays, nobody listens: what a crashed dataplane leaves behind
    for path in (str(tmp_path / "missing.sock"), stale, str(tmp_path)):
        for args in (["dataplane", "hello"], ["--json", "dataplane", "stats"],
                     ["dataplane", "list"]):
            p = dp.cli_raw(*args, socket_path=path)
            assert p.returncode == 3, (path, args, p.returncode, p.stderr)
            assert path in p.stderr, p.stderr
