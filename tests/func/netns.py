# Network namespaces, veth pairs and sockets opened inside a namespace, for the functional
# tests. Runs in the pytest process (root); every command is bounded by a timeout.
import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)

PREFIX = "rpaft-"


def run(cmd, ns=None, check=True, timeout=15, capture=True):
    if ns is not None:
        cmd = ["ip", "netns", "exec", ns] + list(cmd)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=capture, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return p


def ip(ns, *args, check=True):
    return run(["ip", "-n", ns, *args], check=check)


def ip_json(ns, *args):
    out = ip(ns, "-j", *args).stdout
    return json.loads(out) if out.strip() else []


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns: {os.strerror(e)}")


@contextlib.contextmanager
def inside(ns):
    """Switch this thread into namespace `ns` for the block. A socket created inside keeps
    its namespace after the switch back, so tests drive many namespaces from one thread."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(f"/run/netns/{ns}", os.O_RDONLY)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(home)
    finally:
        os.close(home)


def socket_in(ns, family=socket.AF_INET, type=socket.SOCK_DGRAM, proto=0):
    with inside(ns):
        return socket.socket(family, type, proto)


def add_ns(name):
    run(["ip", "netns", "add", name])
    # No IPv6 (router solicitations, MLD) so that every frame the relay sees was sent by a
    # test; no forwarding unless a namespace is meant to route.
    run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
         "net.ipv6.conf.default.disable_ipv6=1", "net.ipv4.ip_forward=0"], ns=name)
    ip(name, "link", "set", "lo", "up")


def del_ns(name):
    run(["ip", "netns", "del", name], check=False)


def add_veth(ns1, if1, ns2, if2):
    ip(ns1, "link", "add", if1, "type", "veth", "peer", "name", if2, "netns", ns2)
    for ns, ifname in ((ns1, if1), (ns2, if2)):
        # veth trap: with tx checksum offload on, frames reach af_packet with a partial UDP
        # checksum. rx off too, so no offload path can mark the relay's frames as verified
        # (test_harness checks that a receiving kernel drops a bad UDP checksum).
        run(["ethtool", "-K", ifname, "tx", "off", "rx", "off"], ns=ns)
        ip(ns, "link", "set", ifname, "up")


def mac_of(ns, ifname):
    return ip_json(ns, "link", "show", "dev", ifname)[0]["address"]


def neigh_of(ns, addr):
    """The kernel's neighbour entry for addr in ns, or None."""
    for n in ip_json(ns, "neigh", "show", "to", addr):
        if n.get("dst") == addr:
            return n
    return None


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_stale():
    """Deletes namespaces left by an earlier test run that died (prefix rpaft-<pid>-)."""
    out = run(["ip", "netns", "list"], check=False).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(PREFIX):
            continue
        try:
            pid = int(name[len(PREFIX):].split("-")[0])
        except ValueError:
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            for p in run(["ip", "netns", "pids", name], check=False).stdout.split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(p), signal.SIGKILL)
            del_ns(name)


class Topology:
    """
    a (192.0.2.10, .11) ── dpa ┐                       ┌ rdp ─┐
                                │ dp: rtpanchor-dataplane│       br0 198.51.100.254 ── rb ── b (198.51.100.10, .11)
                                └ dpb ──────────────────┘   r ─┘
                                                            r: rc 203.0.113.1 ── c (203.0.113.10, via .1)
    The relay owns 192.0.2.1/24 on net_af_packet0 (dpa) and 198.51.100.1/24 on
    net_af_packet1 (dpb) with gateway 198.51.100.254; namespace r bridges the relay, b and
    itself on 198.51.100.0/24 and routes to 203.0.113.0/24.
    """

    RELAY_A = "192.0.2.1"
    RELAY_B = "198.51.100.1"
    A = "192.0.2.10"
    A2 = "192.0.2.11"
    B = "198.51.100.10"
    B2 = "198.51.100.11"
    GW = "198.51.100.254"
    C = "203.0.113.10"
    C_GW = "203.0.113.1"
    UNUSED_B = "198.51.100.99"  # on-link on the B side, nobody answers ARP

    def __init__(self, prefix=None):
        self.prefix = prefix or f"{PREFIX}{os.getpid()}-"
        self.dp = self.prefix + "dp"
        self.a = self.prefix + "a"
        self.b = self.prefix + "b"
        self.r = self.prefix + "r"
        self.c = self.prefix + "c"
        self.all = [self.dp, self.a, self.b, self.r, self.c]
        self.macs = {}

    def up(self):
        try:
            self._up()
        except BaseException:
            self.down()
            raise
        return self

    def _up(self):
        for ns in self.all:
            add_ns(ns)
        add_veth(self.a, "a0", self.dp, "dpa")
        add_veth(self.r, "rdp", self.dp, "dpb")
        add_veth(self.b, "b0", self.r, "rb")
        add_veth(self.c, "c0", self.r, "rc")
        ip(self.r, "link", "add", "br0", "type", "bridge", "stp_state", "0",
           "forward_delay", "0")
        for port in ("rdp", "rb"):
            ip(self.r, "link", "set", port, "master", "br0")
        ip(self.r, "link", "set", "br0", "up")
        ip(self.r, "addr", "add", f"{self.GW}/24", "dev", "br0")
        ip(self.r, "addr", "add", f"{self.C_GW}/24", "dev", "rc")
        run(["sysctl", "-qw", "net.ipv4.ip_forward=1"], ns=self.r)
        ip(self.a, "addr", "add", f"{self.A}/24", "dev", "a0")
        ip(self.a, "addr", "add", f"{self.A2}/24", "dev", "a0")
        ip(self.b, "addr", "add", f"{self.B}/24", "dev", "b0")
        ip(self.b, "addr", "add", f"{self.B2}/24", "dev", "b0")
        ip(self.c, "addr", "add", f"{self.C}/24", "dev", "c0")
        ip(self.c, "route", "add", "default", "via", self.C_GW)
        self.macs = {"a0": mac_of(self.a, "a0"), "b0": mac_of(self.b, "b0"),
                     "br0": mac_of(self.r, "br0"), "dpa": mac_of(self.dp, "dpa"),
                     "dpb": mac_of(self.dp, "dpb"), "c0": mac_of(self.c, "c0")}

    def flush_neigh(self):
        """Forget every kernel neighbour entry so ARP must run again."""
        for ns, dev in ((self.a, "a0"), (self.b, "b0"), (self.r, "br0"), (self.c, "c0")):
            ip(ns, "neigh", "flush", "dev", dev, check=False)

    def down(self):
        for ns in self.all:
            for p in run(["ip", "netns", "pids", ns], check=False).stdout.split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(p), signal.SIGKILL)
            del_ns(ns)
