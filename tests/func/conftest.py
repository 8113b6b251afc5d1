# Fixtures for the functional tests: one namespace topology per session (netns.Topology),
# a fresh real dataplane per test, kernel UDP endpoints in the peer namespaces. Teardown
# always runs: processes are killed by PID and the namespaces deleted.
import os
import shutil
import signal
import tempfile

import pytest

import dataplane
import netns
import pkt


def pytest_sessionstart(session):
    if os.geteuid() != 0:
        raise pytest.UsageError("the functional tests need root (network namespaces, DPDK)")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(scope="session")
def topo():
    netns.reap_stale()
    t = netns.Topology().up()
    try:
        yield t
    finally:
        t.down()


@pytest.fixture(scope="session")
def workroot():
    d = tempfile.mkdtemp(prefix=f"rpaft-{os.getpid()}-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


# Short ARP timers so that tests about unresolved neighbours finish in a second or two; a
# peer kernel answers an ARP request over veth in well under 100 ms.
DP_OPTIONS = ["--arp-retrans-ms", "200", "--arp-probes", "3"]


def _make_dp(request, topo, workroot, options=DP_OPTIONS, **eal):
    for binary in (dataplane.DATAPLANE, dataplane.CLI):
        if not os.access(binary, os.X_OK):
            pytest.fail(f"{binary} is not built: run scripts/build.sh (or set BUILD_DIR)")
    workdir = tempfile.mkdtemp(prefix=request.node.name[:40] + "-", dir=workroot)
    topo.flush_neigh()
    return dataplane.Dataplane(topo, workdir, options, **eal)


def _finish(request, dp):
    rc = dp.stop(signal.SIGTERM)
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        print(f"\n---- dataplane log ({dp.log_path}) ----\n{dp.log_tail()}")
    return rc


@pytest.fixture
def dp(request, topo, workroot):
    """A running dataplane, stopped (SIGTERM, then SIGKILL) after the test."""
    d = _make_dp(request, topo, workroot)
    try:
        d.start()
        yield d
    finally:
        _finish(request, d)


@pytest.fixture
def dp_factory(request, topo, workroot):
    """For tests that start and stop the dataplane themselves. make(options, lcores=...,
    qpairs=...): see dataplane.eal_args for the EAL variants."""
    made = []

    def make(options=DP_OPTIONS, **eal):
        d = _make_dp(request, topo, workroot, options, **eal)
        made.append(d)
        return d

    try:
        yield make
    finally:
        for d in made:
            _finish(request, d)


@pytest.fixture
def udp(topo):
    """udp(ns, addr, port) -> pkt.Udp, closed after the test."""
    socks = []

    def make(ns, addr, port):
        s = pkt.Udp(ns, addr, port)
        socks.append(s)
        return s

    yield make
    for s in socks:
        s.close()


@pytest.fixture
def capture(topo):
    caps = []

    def make(ns, ifname, ethertype=pkt.ETH_P_ALL):
        c = pkt.Capture(ns, ifname, ethertype)
        caps.append(c)
        return c

    yield make
    for c in caps:
        c.close()
