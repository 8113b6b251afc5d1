# End to end: a SIPp caller -> Kamailio running examples/kamailio/kamailio.cfg -> a SIPp
# callee, signalling on its own network (sipnet.SigNet), media anchored by the real
# rtpanchor-control and rtpanchor-dataplane, Redis between Kamailio and control. The
# caller sits on the relay's 192.0.2.0/24 side (interface "a"), the callee on the
# 198.51.100.0/24 side (interface "b").
import struct
import tempfile
import time

import pytest

import sipnet

IFACES = {"a": "192.0.2.1", "b": "198.51.100.1"}
DIRECTION = {"RTPANCHOR_CALLER_IF": '"a"', "RTPANCHOR_CALLEE_IF": '"b"'}
# Outside the relay's port range (30000-39999) and the ephemeral range (32768-60999).
UAC_MEDIA_PORT = 6000
UAS_MEDIA_PORT = 7000
PORT_MIN, PORT_MAX = 30000, 39999
# '%' is a hiredis format directive; Kamailio hands its Redis command string to hiredis as
# a format, so a Call-ID or tag with '%s' in it must still arrive intact (and not crash).
ODD_TAG = "p%s%n%d."
ODD_CID = "%%s%%n-%u-%p@%s"  # SIPp -cid_str: '%%' is a literal '%'
DTMF_PCAP = "/usr/share/sip-tester/dtmf_2833_1.pcap"


def pcap_packets(path):
    """Number of packets in a classic pcap file (what play_pcap_audio sends)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data)[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, n = 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack_from(endian + "I", data, off + 8)[0]
        off += 16 + incl
        n += 1
    return n


class Rig:
    def __init__(self, topo, signet, dp, workdir):
        self.topo = topo
        self.net = signet
        self.dp = dp
        self.workdir = workdir
        self.redis = None
        self.monitor = None
        self.control = None
        self.kamailio = None
        self.sipps = []
        self.prefix = "rtpanchor:"

    def start(self, control=True, defines=None):
        self.redis = sipnet.RedisServer(self.net.ns, self.workdir)
        self.monitor = sipnet.Monitor(self.redis)
        if control:
            self.control = sipnet.Control(self.net.ns, self.workdir, self.redis,
                                          self.dp.socket, IFACES)
        d = dict(DIRECTION)
        d.update(defines or {})
        self.kamailio = sipnet.Kamailio(self.net.ns, self.workdir, self.net.PROXY,
                                        self.redis.port, d)
        return self

    def uas(self, scenario, extra=()):
        s = sipnet.Sipp("uas", self.topo.b, self.workdir, scenario, self.net.B, self.topo.B,
                        UAS_MEDIA_PORT, extra=["-rtp_echo", *extra])
        self.sipps.append(s)
        deadline = time.monotonic() + 10
        while not sipnet.udp_bound(self.topo.b, self.net.B, 5060):
            assert s.proc.alive() and time.monotonic() < deadline, s.report()
            time.sleep(0.05)
        return s

    def uac(self, scenario, keys, extra=()):
        k = {"callee": f"{self.net.B}:5060"}
        k.update(keys)
        s = sipnet.Sipp("uac", self.topo.a, self.workdir, scenario, self.net.A, self.topo.A,
                        UAC_MEDIA_PORT, remote=f"{self.net.PROXY}:5060", keys=k, extra=extra)
        self.sipps.append(s)
        return s

    def commands(self):
        """The commands Kamailio wrote to the command stream, in order (from MONITOR:
        control trims the stream once it has answered): [(op, {field: value})]."""
        out = []
        for args in self.monitor.commands():
            if len(args) < 3 or args[0].upper() != "XADD" or args[1] != self.prefix + "commands":
                continue
            f = dict(zip(args[3::2], args[4::2]))
            out.append((f.get("op"), f))
        return out

    def script_complaints(self):
        """What the configuration logged at L_WARN/L_ERR (its rtpanchor failures)."""
        return [line for line in self.kamailio.proc.log(10000).splitlines()
                if "<script>" in line and ("ERROR" in line or "WARNING" in line)]

    def streams(self):
        return self.dp.cli("list")["streams"]

    def stop(self):
        for s in self.sipps:
            s.stop()
        for p in (self.kamailio, self.control):
            if p is not None:
                p.stop()
        if self.monitor is not None:
            self.monitor.close()
        if self.redis is not None:
            self.redis.stop()

    def dump(self):
        parts = [s.report() for s in self.sipps]
        for name, p in (("kamailio", self.kamailio), ("control", self.control)):
            if p is not None:
                parts.append(f"---- {name} log ----\n{p.proc.log(60)}")
        return "\n".join(parts)


@pytest.fixture(scope="module")
def signet(topo):
    n = sipnet.SigNet(topo).up()
    try:
        yield n
    finally:
        n.down()


@pytest.fixture
def rig(request, topo, signet, dp, workroot):
    workdir = tempfile.mkdtemp(prefix=request.node.name[:40] + "-", dir=workroot)
    r = Rig(topo, signet, dp, workdir)
    try:
        yield r
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            print(f"\n{r.dump()}")
        r.stop()


def carried(rig, uac, from_a, from_b):
    """Waits (bounded by the call: until the caller's SIPp exits) until a relay stream on
    the A side has forwarded from_a packets and one on the B side from_b; returns
    {local: stream} of the streams seen with traffic at that moment."""
    seen = {}
    while uac.proc.alive():
        seen = {s["local"]: s for s in rig.streams() if s["packets"] > 0}
        a = [s for loc, s in seen.items() if loc.startswith(IFACES["a"] + ":")]
        b = [s for loc, s in seen.items() if loc.startswith(IFACES["b"] + ":")]
        if any(s["packets"] >= from_a for s in a) and any(s["packets"] >= from_b for s in b):
            return seen
        time.sleep(0.1)
    raise AssertionError(f"the call ended before the relay carried {from_a} packets from A "
                         f"and {from_b} from B: {seen}\n{rig.dump()}")


def relay_port(value):
    port = int(value)
    assert PORT_MIN <= port <= PORT_MAX and port % 2 == 0, f"relay port {port}"
    return port


def call_commands(rig, call_id_part):
    cmds = [(op, f) for op, f in rig.commands() if call_id_part in f.get("call-id", "")]
    assert cmds, f"no command for a call-id with {call_id_part!r}: {rig.commands()}"
    return cmds


def test_call_media_through_relay(rig):
    """INVITE/200/ACK, RTP both ways (g711a.pcap, echoed), re-INVITE, BYE: the callee is
    offered the relay's B side, the caller answered with its A side, the dataplane forwards
    every packet both ways on exactly those ports, and the BYE removes the streams."""
    rig.start()
    packets = pcap_packets(sipnet.PCAP)
    uas = rig.uas("uas.xml")
    uac = rig.uac("uac.xml", {"pcap": sipnet.PCAP, "ftag": ODD_TAG},
                  ["-d", "9000", "-cid_str", ODD_CID])
    seen = carried(rig, uac, packets, packets)
    assert uac.wait(30) == 0, rig.dump()
    assert uas.wait(10) == 0, rig.dump()

    # What each party was told: the relay's address on its own side, a relay port pair.
    assert uas.logged("offer-c") == [IFACES["b"]], rig.dump()
    assert uac.logged("answer-c") == [IFACES["a"]], rig.dump()
    port_b = relay_port(uas.logged("offer-m")[0])
    port_a = relay_port(uac.logged("answer-m")[0])
    # The re-INVITE keeps the relay ports.
    assert uas.logged("reoffer-c") == [IFACES["b"]] and uas.logged("reoffer-m") == [str(port_b)]
    assert uac.logged("reanswer-c") == [IFACES["a"]] and uac.logged("reanswer-m") == [str(port_a)]

    # The media crossed the dataplane on those ports: the caller's RTP arrived at A:port_a
    # and went to the callee, whose echo arrived at B:port_b and went back to the caller.
    to_b = seen.get(f"{IFACES['a']}:{port_a}")
    to_a = seen.get(f"{IFACES['b']}:{port_b}")
    assert to_b is not None and to_a is not None, seen
    assert to_b["packets"] >= packets and to_a["packets"] >= packets, seen
    assert to_b["dst"] == f"{rig.topo.B}:{UAS_MEDIA_PORT}", to_b
    assert to_a["dst"] == f"{rig.topo.A}:{UAC_MEDIA_PORT}", to_a
    assert to_b["src"] == f"{IFACES['b']}:{port_b}" and to_a["src"] == f"{IFACES['a']}:{port_a}"

    # Kamailio relays the BYE once rtpanchor confirmed the delete, so the streams are gone
    # by the time the caller has its 200 for the BYE.
    assert rig.streams() == []

    # Exactly one command per SIP event, with Call-ID and tag intact despite their '%'.
    cmds = call_commands(rig, "%s%n-")
    assert [op for op, _ in cmds] == ["offer", "answer", "offer", "answer", "delete"], cmds
    for op, f in cmds:
        assert f["from-tag"].startswith(ODD_TAG), f
    assert "to-tag" not in cmds[0][1] and cmds[1][1]["to-tag"] == cmds[4][1]["to-tag"]
    assert cmds[0][1]["flags"] == "direction=a,b" and cmds[2][1]["flags"] == "direction=a,b"
    assert "\r\nm=audio 6000 RTP/AVP 8\r\n" in cmds[0][1]["sdp"]
    assert rig.kamailio.proc.alive()
    assert rig.script_complaints() == []


def test_late_offer(rig):
    """INVITE without SDP: the callee offers in its 200 OK (from the B side: direction=b,a)
    and the caller answers in the ACK; both get the relay on their side and media flows.
    The callee hangs up: its BYE deletes the streams too."""
    rig.start()
    packets = pcap_packets(DTMF_PCAP)
    uas = rig.uas("uas_late.xml", ["-d", "3000"])
    uac = rig.uac("uac_late.xml", {"pcap": DTMF_PCAP, "ftag": "late."})
    # The caller sends RTP right after its ACK, and the ACK carries the answer: echoes of
    # the first packets may reach the relay before that answer did (dropped as no-stream,
    # the nature of a late offer), so the way back is only required to carry media.
    seen = carried(rig, uac, packets, 1)
    assert uac.wait(30) == 0, rig.dump()
    assert uas.wait(10) == 0, rig.dump()

    assert uac.logged("offer-c") == [IFACES["a"]], rig.dump()
    assert uas.logged("answer-c") == [IFACES["b"]], rig.dump()
    port_a = relay_port(uac.logged("offer-m")[0])
    port_b = relay_port(uas.logged("answer-m")[0])
    to_b = seen.get(f"{IFACES['a']}:{port_a}")
    to_a = seen.get(f"{IFACES['b']}:{port_b}")
    assert to_b is not None and to_a is not None, seen
    assert to_b["dst"] == f"{rig.topo.B}:{UAS_MEDIA_PORT}", to_b
    assert to_a["dst"] == f"{rig.topo.A}:{UAC_MEDIA_PORT}", to_a
    # The caller got the BYE from Kamailio, which relays it once rtpanchor confirmed the
    # delete.
    assert rig.streams() == []

    cmds = call_commands(rig, "@")
    assert [op for op, _ in cmds] == ["offer", "answer", "delete"], cmds
    offer, answer, delete = (f for _, f in cmds)
    # The offerer is the callee: its tag is the from-tag of both offer and answer, and of
    # the delete since it sent the BYE.
    assert offer["to-tag"].startswith("late.") and offer["flags"] == "direction=b,a"
    assert answer["from-tag"] == offer["from-tag"] and answer["to-tag"] == offer["to-tag"]
    assert delete["from-tag"] == offer["from-tag"] and delete["to-tag"] == offer["to-tag"]
    assert rig.script_complaints() == []


def reject(rig, c_line):
    uac = rig.uac("uac_reject.xml", {"c_line": c_line, "m_line": "m=audio 6000 RTP/AVP 8"})
    assert uac.wait(30) == 0, rig.dump()
    finals = [line.split("=", 1)[1] for line in uac.read("logs").splitlines()
              if line.startswith("final=")]
    assert len(finals) == 1, rig.dump()
    return finals[0]


def test_ipv6_offer_rejected_488(rig):
    """An IPv6 offer while the relay has no IPv6 interface: rtpanchor refuses the SDP and
    the caller gets 488 at once; the callee never sees the INVITE, nothing is installed."""
    rig.start()
    assert reject(rig, "c=IN IP6 2001:db8::10") == "SIP/2.0 488 Not Acceptable Here"
    cmds = call_commands(rig, "@")
    assert [op for op, _ in cmds] == ["offer"], cmds
    assert rig.streams() == []
    assert rig.kamailio.proc.alive()
    complaints = rig.script_complaints()
    assert len(complaints) == 1 and "IPv6" in complaints[0], complaints


def test_unknown_flag_rejected_500(rig):
    """A proxy configured with a flag rtpanchor does not know: every offer is refused with
    an error naming the flag, and the caller gets 500, not a hang."""
    rig.start(defines={"RTPANCHOR_FLAGS": '"no-such-flag"'})
    assert reject(rig, f"c=IN IP4 {rig.topo.A}") == "SIP/2.0 500 Media Relay Error"
    cmds = call_commands(rig, "@")
    assert [op for op, _ in cmds] == ["offer"], cmds
    assert cmds[0][1]["flags"] == "no-such-flag direction=a,b"
    assert rig.streams() == []
    complaints = rig.script_complaints()
    assert len(complaints) == 1 and "no-such-flag" in complaints[0], complaints


def test_no_relay_answers_503(rig):
    """Nobody reads the command stream: after RTPANCHOR_WAIT_S the caller gets 503, and a
    delete is queued behind the offer so that a relay catching up frees the ports."""
    rig.start(control=False, defines={"RTPANCHOR_WAIT_S": '"0.5"'})
    assert reject(rig, f"c=IN IP4 {rig.topo.A}") == "SIP/2.0 503 Media Relay Unavailable"
    cmds = call_commands(rig, "@")
    assert [op for op, _ in cmds] == ["offer", "delete"], cmds
    offer, delete = cmds[0][1], cmds[1][1]
    assert delete["call-id"] == offer["call-id"] and delete["from-tag"] == offer["from-tag"]
    assert "to-tag" not in delete


def test_redis_unreachable_503(rig):
    """Kamailio's Redis is down: the XADD fails at once and the caller gets 503 (no
    dangling transaction, no retry storm); Kamailio keeps running."""
    dead = sipnet.free_port(rig.net.ns)
    rig.start(control=False,
              defines={"RTPANCHOR_REDIS": f'"name=rtpanchor;addr=127.0.0.1;port={dead}"'})
    assert reject(rig, f"c=IN IP4 {rig.topo.A}") == "SIP/2.0 503 Media Relay Unavailable"
    complaints = rig.script_complaints()
    assert len(complaints) == 1 and "Redis unreachable" in complaints[0], complaints
    assert rig.kamailio.proc.alive()
