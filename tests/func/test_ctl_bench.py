# rtpanchor-bench-ctl against the real rtpanchor-control, Redis and dataplane: every pair it
# times really went through the command channel (XADD and BLPOP written together, see
# ctlreq_call), every reply was checked, and the calls it made are gone afterwards. No
# figure is asserted (benchmarks print numbers); the counts and outcomes are.
import json
import os
import signal
import subprocess
import time

import dataplane
from control import PREFIX, ctl, ctl_factory, redis  # noqa: F401 (fixtures)

BENCH = os.path.join(dataplane.BUILD, "bench", "rtpanchor-bench-ctl")


def test_ctl_bench_pairs_counted_and_cleaned_up(ctl):
    p = subprocess.run([BENCH, "--redis", f"127.0.0.1:{ctl.redis.port}", "--clients", "3",
                        "--count", "30", "--warmup", "2", "--json"],
                       capture_output=True, timeout=120)
    assert p.returncode == 0, (p.stdout, p.stderr)
    r = json.loads(p.stdout)
    assert r["pairs"] == 30, r
    assert r["commands"] == 90, r  # offer, answer and delete of each pair
    assert r["errors"]["total"] == 0, r
    assert set(r["command_latency_ms"]) == {"offer", "answer", "delete"}, r
    assert r["client_cpu_us_per_command"] > 0, r
    # 30 measured pairs and 2 warm-up pairs per client, each offered once and deleted.
    ev = [e for e in ctl.events() if e.get("event") in ("call-created", "call-deleted")]
    created = [e["call-id"] for e in ev if e["event"] == "call-created"]
    deleted = [e["call-id"] for e in ev if e["event"] == "call-deleted"]
    assert len(created) == 36 and sorted(created) == sorted(deleted), ev
    assert ctl.calls() == []
    # Each reply was popped by its BLPOP: no reply list is left behind.
    cl = ctl.client()
    assert cl.command("KEYS", PREFIX + "reply-bench*") == []
    assert ctl.pending() == 0


def test_ctl_bench_clients_spread_over_threads(ctl):
    """Five clients on two event-loop threads: the pairs are counted exactly once."""
    p = subprocess.run([BENCH, "--redis", f"127.0.0.1:{ctl.redis.port}", "--clients", "5",
                        "--threads", "2", "--count", "40", "--warmup", "1", "--json"],
                       capture_output=True, timeout=120)
    assert p.returncode == 0, (p.stdout, p.stderr)
    r = json.loads(p.stdout)
    assert (r["pairs"], r["commands"], r["threads"]) == (40, 120, 2), r
    assert r["errors"]["total"] == 0, r
    assert ctl.calls() == []


def test_ctl_bench_counts_timeouts_when_control_stalls(ctl):
    """With control stopped, every command times out: the timeouts are counted, the run
    ends when its duration does (no hang) and the exit status says that commands failed."""
    # The ping that checks for control comes first, so stop control only once the run
    # has started: a short warm-up keeps the first commands answered.
    bench = subprocess.Popen([BENCH, "--redis", f"127.0.0.1:{ctl.redis.port}", "--clients", "2",
                              "--duration", "2", "--warmup", "0", "--timeout", "300", "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(0.5)
        ctl.kill(signal.SIGSTOP)
        out, err = bench.communicate(timeout=60)
    finally:
        ctl.kill(signal.SIGCONT)
        if bench.poll() is None:
            bench.kill()
            bench.wait(10)
    assert bench.returncode == 1, (out, err)
    r = json.loads(out)
    assert r["errors"]["timeouts"] >= 2, r
    assert r["errors"]["error_replies"] == 0 and r["errors"]["bad_replies"] == 0, r
