# The dataplane process as an operator meets it: clean exit on SIGTERM/SIGINT, a restart
# after a crash with its state replayed, and the DPDK telemetry socket.
import glob
import json
import os
import signal
import socket

import pytest

import dpctl
from pkt import rtp, payload, wait_for, warm_up
from test_cli import drop_reason_names


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_0_and_removes_socket(dp_factory, topo, udp, sig):
    d = dp_factory().start()
    d.add_call(30140, 30142, b_peer=f"{topo.B}:20142")
    a = udp(topo.a, topo.A, 20140)
    b = udp(topo.b, topo.B, 20142)
    assert warm_up(a, (topo.RELAY_A, 30140), b)  # workers busy with real traffic
    rc = d.stop(sig, timeout=15)
    assert rc == 0, f"exit code {rc} after {sig.name}:\n{d.log_tail()}"
    assert not os.path.exists(d.socket), "control socket left behind"


def test_restart_after_crash(dp_factory, topo, udp):
    d = dp_factory()
    d.start()
    d.add_call(30150, 30152, b_peer=f"{topo.B}:20152")
    a = udp(topo.a, topo.A, 20150)
    b = udp(topo.b, topo.B, 20152)
    assert warm_up(a, (topo.RELAY_A, 30150), b)
    boot1 = d.cli("hello")["boot_id"]

    d.stop(signal.SIGKILL)  # a crash: the socket file stays behind
    assert d.wait(5) is not None
    a.send((topo.RELAY_A, 30150), rtp(1, 0x5, b"while-down"))
    assert b.recv(1, 0.3) == []

    d.start()  # over the stale socket file
    hello = d.cli("hello")
    assert hello["boot_id"] != boot1, "boot_id must change so control replays its state"
    assert hello["pid"] == d.pid
    assert d.cli("list")["streams"] == []
    d.add_call(30150, 30152, b_peer=f"{topo.B}:20152")
    assert warm_up(a, (topo.RELAY_A, 30150), b), "no media after the restart"
    bodies = [rtp(i, 0x55, payload(200, i)) for i in range(10)]
    for x in bodies:
        a.send((topo.RELAY_A, 30150), x)
    assert [x for x, _, _ in b.recv(10, 2.0)] == bodies
    assert warm_up(b, (topo.RELAY_B, 30152), a), "B->A did not re-latch after the restart"
    assert d.stop(signal.SIGTERM) == 0


def telemetry_connect(pid, timeout=5.0):
    """The DPDK telemetry v2 socket of process pid (found by the pid it announces)."""
    seen = []
    for path in sorted(glob.glob("/var/run/dpdk/*/dpdk_telemetry.v2*")):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(timeout)
        try:
            s.connect(path)
            info = json.loads(s.recv(65536))
        except (OSError, ValueError):
            s.close()
            continue
        seen.append((path, info.get("pid")))
        if info.get("pid") == pid:
            return s, info
        s.close()
    raise AssertionError(f"no telemetry socket for pid {pid}; found {seen}")


def telemetry(s, cmd):
    s.send(cmd.encode())
    return json.loads(s.recv(1 << 20))


def test_telemetry_commands(dp, topo, udp):
    dp.add_call(30160, 30162, b_peer=f"{topo.B}:20162")
    a = udp(topo.a, topo.A, 20160)
    b = udp(topo.b, topo.B, 20162)
    assert warm_up(a, (topo.RELAY_A, 30160), b)
    s, info = telemetry_connect(dp.pid)
    try:
        cmds = telemetry(s, "/")["/"]
        for c in ("/rtpanchor/stats", "/rtpanchor/ports", "/rtpanchor/drops"):
            assert c in cmds, f"{c} not registered: {cmds}"
        st = telemetry(s, "/rtpanchor/stats")["/rtpanchor/stats"]
        assert isinstance(st, dict) and st, st
        assert st.get("streams") == 2, st
        # Like /ethdev/stats: the port ids without a parameter, one port's counters with.
        assert telemetry(s, "/rtpanchor/ports")["/rtpanchor/ports"] == [0, 1]
        for pid, name in ((0, "net_af_packet0"), (1, "net_af_packet1")):
            port = telemetry(s, f"/rtpanchor/ports,{pid}")["/rtpanchor/ports"]
            assert port["name"] == name and port["rx_pkts"] >= 1, port
        a.send((topo.RELAY_A, 30999), b"no stream here")
        wait_for(lambda: dp.drops("no-stream") == 1, 2.0, what="one no-stream drop")
        drops = telemetry(s, "/rtpanchor/drops")["/rtpanchor/drops"]
        # DPDK 22.11 telemetry accepts only [A-Za-z0-9_/] in dictionary keys, so a name
        # with '-' is silently left out: expect every reason, '-' possibly spelt '_'.
        reasons = drop_reason_names()
        assert set(drops) in (reasons, {r.replace("-", "_") for r in reasons}), drops
        assert drops.get("no-stream", drops.get("no_stream")) == 1, drops
        # Same numbers as the control socket: the telemetry reads the real counters.
        c = dpctl.Client(dp.socket)
        assert c.stream_count() == st["streams"]
    finally:
        s.close()
