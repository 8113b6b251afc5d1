# The rtpanchor CLI's call commands against the real rtpanchor-control, a real Redis and the
# real dataplane: offer/answer/query/list/stats/ping/delete through the command channel,
# text and --json output, media through the relay, metrics of the same process; exit codes
# 1 (error reply), 2 (usage), 3 (Redis unreachable, credentials refused, no control).
import json
import os
import re
import subprocess

import dataplane
import redis_server
from control import PREFIX, ctl, ctl_factory, media, redis, sdp  # noqa: F401 (fixtures)
from pkt import payload, rtp, wait_for, warm_up


def cli(ctl, *args, stdin=None, env=None, redis_addr=None, timeout=30):
    """Runs the CLI against the control's Redis: CompletedProcess with str output whose
    line ends are kept as they came (SDP is CRLF)."""
    addr = redis_addr or f"127.0.0.1:{ctl.redis.port}"
    e = {k: v for k, v in os.environ.items() if not k.startswith("RTPANCHOR_")}
    e.update(env or {})
    p = subprocess.run([dataplane.CLI, "--redis", addr, *args],
                       input=None if stdin is None else stdin.encode(),
                       capture_output=True, timeout=timeout, env=e)
    p.stdout = p.stdout.decode()
    p.stderr = p.stderr.decode()
    return p


def ok(p):
    assert p.returncode == 0, (p.args, p.returncode, p.stdout, p.stderr)
    return p


def js(p):
    return json.loads(ok(p).stdout)


def metrics(ctl):
    """The control's /metrics as {(name, labels): value}."""
    out = {}
    for line in ctl.metrics().splitlines():
        if line.startswith("#") or not line:
            continue
        mm = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        assert mm, line
        out[(mm.group(1), mm.group(2) or "")] = float(mm.group(3))
    return out


def test_call_through_the_cli(ctl, dp, topo, udp, tmp_path):
    a_sdp = tmp_path / "a.sdp"
    a_sdp.write_text(sdp(topo.A, 21100))

    assert ok(cli(ctl, "ping")).stdout == "pong\n"
    assert js(cli(ctl, "--json", "ping")) == {"result": "pong"}

    # offer: the SDP for B on stdout, pointing at the relay's B side.
    p = ok(cli(ctl, "offer", "--call-id", "cli-1", "--from-tag", "ft1", "--sdp", str(a_sdp),
               "--flags", "direction=a,b"))
    assert p.stdout.startswith("v=0\r\n") and p.stdout.endswith("\r\n"), p.stdout
    addr_b, port_b = media(p.stdout)
    assert addr_b == topo.RELAY_B and port_b % 2 == 0, p.stdout
    assert p.stderr == ""

    # answer, SDP from standard input, --json: the reply object.
    r = js(cli(ctl, "--json", "answer", "--call-id", "cli-1", "--from-tag", "ft1",
               "--to-tag", "tt1", "--sdp", "-", stdin=sdp(topo.B, 21102)))
    assert r["result"] == "ok", r
    addr_a, port_a = media(r["sdp"])
    assert addr_a == topo.RELAY_A and port_a % 2 == 0, r

    # The call the CLI set up carries media both ways.
    a = udp(topo.a, topo.A, 21100)
    b = udp(topo.b, topo.B, 21102)
    assert warm_up(a, (topo.RELAY_A, port_a), b), "A's media did not reach B"
    bodies = [rtp(i, 0xC1, payload(160, i)) for i in range(10)]
    for x in bodies:
        b.send((topo.RELAY_B, port_b), x)
    assert [d for d, _, _ in a.recv(len(bodies), 3.0)] == bodies

    # query: --json has the per-stream counters; text shows the same fields.
    q = js(cli(ctl, "--json", "query", "--call-id", "cli-1"))
    assert q["result"] == "ok" and q["call-id"] == "cli-1", q
    by_local = {s["local"]: s for s in q["streams"]}
    assert by_local[f"{topo.RELAY_B}:{port_b}"]["packets"] == len(bodies), q
    t = ok(cli(ctl, "query", "--call-id", "cli-1")).stdout
    assert "call-id: cli-1\n" in t and "streams:\n" in t, t
    assert f"  - local: {topo.RELAY_B}:{port_b}\n" in t, t
    assert "result:" not in t

    # list and stats.
    assert js(cli(ctl, "--json", "list"))["calls"] == ["cli-1"]
    assert "  - cli-1\n" in ok(cli(ctl, "list")).stdout
    st = js(cli(ctl, "stats", "--json"))["statistics"]
    assert st["calls"] == 1 and st["commands"]["offer"] == 1 and st["commands"]["answer"] == 1
    assert "calls: 1\n" in ok(cli(ctl, "stats")).stdout

    # The same process's metrics count what the CLI did (gauges refresh about once a
    # second; a command is counted just after its reply is written).
    wait_for(lambda: metrics(ctl)[("rtpanchor_calls", "")] == 1, 10, what="calls gauge")
    m = metrics(ctl)
    assert m[("rtpanchor_commands_total", 'op="offer",result="ok"')] == 1
    assert m[("rtpanchor_commands_total", 'op="answer",result="ok"')] == 1
    assert m[("rtpanchor_commands_total", 'op="ping",result="pong"')] >= 2
    assert m[("rtpanchor_command_duration_seconds_count", 'op="query"')] == 2
    assert m[("rtpanchor_dataplane_up", "")] == 1

    # delete: gone from list; a query is now an error reply (exit 1), in both forms.
    ok(cli(ctl, "delete", "--call-id", "cli-1", "--from-tag", "ft1"))
    assert js(cli(ctl, "--json", "list"))["calls"] == []
    assert dp.cli("list")["streams"] == []
    p = cli(ctl, "query", "--call-id", "cli-1")
    assert p.returncode == 1 and p.stdout == "", p
    assert p.stderr.startswith("rtpanchor: query failed: ") and "cli-1" in p.stderr, p.stderr
    p = cli(ctl, "--json", "query", "--call-id", "cli-1")
    assert p.returncode == 1
    r = json.loads(p.stdout)
    assert r["result"] == "error" and "cli-1" in r["error-reason"], r
    # (The control counts a command just after writing its reply.)
    wait_for(lambda: metrics(ctl)[("rtpanchor_commands_total", 'op="query",result="error"')]
             == 2, 10, what="query errors counted")

    # Each CLI run popped its reply: no reply key is left in Redis.
    assert ctl.client().command("KEYS", PREFIX + "reply-cli:*") == []


def test_error_replies(ctl, topo, tmp_path):
    good = tmp_path / "good.sdp"
    good.write_text(sdp(topo.A, 21200))
    bad = tmp_path / "bad.sdp"
    bad.write_text("v=0\r\nthis is not SDP\r\n")

    p = cli(ctl, "offer", "--call-id", "e1", "--from-tag", "f", "--sdp", str(good),
            "--flags", "no-such-flag")
    assert p.returncode == 1 and p.stdout == "", p
    assert p.stderr.startswith("rtpanchor: offer failed: ") and "no-such-flag" in p.stderr
    p = cli(ctl, "--json", "offer", "--call-id", "e1", "--from-tag", "f", "--sdp", str(bad))
    assert p.returncode == 1, p
    r = json.loads(p.stdout)
    assert r["result"] == "error" and r["error-reason"], r
    p = cli(ctl, "answer", "--call-id", "nobody", "--from-tag", "f", "--to-tag", "t",
            "--sdp", str(good))
    assert p.returncode == 1 and "rtpanchor: answer failed:" in p.stderr, p
    # Nothing was created by the refused commands.
    assert js(cli(ctl, "--json", "list"))["calls"] == []


def last_command(ctl):
    """The id of the newest entry ever added to the command stream (it is trimmed)."""
    info = ctl.client().command("XINFO", "STREAM", PREFIX + "commands")
    return dict(zip(info[::2], info[1::2]))[b"last-generated-id"]


def test_usage_errors(ctl, tmp_path):
    before = last_command(ctl)
    for args in (["offer", "--call-id", "c", "--from-tag", "f"],        # no --sdp
                 ["answer", "--call-id", "c", "--from-tag", "f", "--sdp", "-"],  # no --to-tag
                 ["query"], ["list", "--call-id", "c"], ["ping", "--timeout", "0"],
                 ["offer", "--call-id", "c", "--from-tag", "f", "--sdp",
                  str(tmp_path / "missing.sdp")]):
        p = cli(ctl, *args)
        assert p.returncode == 2, (args, p)
        assert p.stderr.startswith("rtpanchor: "), (args, p.stderr)
    p = cli(ctl, "offer", "--help")
    assert p.returncode == 0 and "--sdp FILE" in p.stdout and "Exit status" in p.stdout
    # Nothing reached the control.
    assert last_command(ctl) == before


def test_unreachable_and_credentials(ctl):
    port = redis_server.free_port()
    p = cli(ctl, "ping", redis_addr=f"127.0.0.1:{port}")
    assert p.returncode == 3, p
    assert f"cannot reach Redis at 127.0.0.1:{port}" in p.stderr, p.stderr
    p = cli(ctl, "--json", "list", redis_addr=f"127.0.0.1:{port}")
    assert p.returncode == 3
    assert "cannot reach Redis" in json.loads(p.stdout)["error-reason"]

    # Credentials come from the environment only.
    ctl.client().command("ACL", "SETUSER", "operator", "on", ">pw-1", "~*", "&*", "+@all")
    env = {"RTPANCHOR_REDIS_USER": "operator", "RTPANCHOR_REDIS_PASSWORD": "pw-1"}
    assert ok(cli(ctl, "ping", env=env)).stdout == "pong\n"
    env["RTPANCHOR_REDIS_PASSWORD"] = "wrong"
    p = cli(ctl, "ping", env=env)
    assert p.returncode == 3 and "refused the credentials" in p.stderr, p

    # Redis answers but no control reads this prefix: a clear timeout, exit 3.
    p = cli(ctl, "--key-prefix", "elsewhere:", "--timeout", "300ms", "ping")
    assert p.returncode == 3, p
    assert "no reply from rtpanchor-control within 300 ms" in p.stderr, p.stderr
    assert "elsewhere:commands" in p.stderr

    # The control stopped: the same.
    ctl.stop()
    p = cli(ctl, "--timeout", "1s", "list")
    assert p.returncode == 3 and "no reply from rtpanchor-control" in p.stderr, p
