# SRTP for the functional tests: keys and a=crypto lines (RFC 4568), SDP with a profile of
# choice, the libsrtp2 filter (`rtpanchor-udpgen protect|unprotect`) for byte-exact
# packets, and rtpanchor-udpgen runs inside namespaces. libsrtp2 is the independent
# reference: nothing here shares code with the relay. Every wait is bounded.
import base64
import json
import os
import re
import struct
import subprocess
import time

import dataplane
import netns

UDPGEN = os.path.join(dataplane.BUILD, "bench", "rtpanchor-udpgen")

# suite -> (master key bytes, master salt bytes, SRTP tag bytes)
SUITES = {
    "AES_CM_128_HMAC_SHA1_80": (16, 14, 10),
    "AES_CM_128_HMAC_SHA1_32": (16, 14, 4),
    "AES_256_CM_HMAC_SHA1_80": (32, 14, 10),
    "AES_256_CM_HMAC_SHA1_32": (32, 14, 4),
    "AEAD_AES_128_GCM": (16, 12, 16),
    "AEAD_AES_256_GCM": (32, 12, 16),
}
CM80 = "AES_CM_128_HMAC_SHA1_80"
GCM128 = "AEAD_AES_128_GCM"


class Key:
    """One SDES master key: suite, key||salt, optional MKI (value, length)."""

    def __init__(self, suite, material=None, mki=None):
        klen, slen, _ = SUITES[suite]
        self.suite = suite
        self.material = material if material is not None else os.urandom(klen + slen)
        assert len(self.material) == klen + slen
        self.mki = mki

    def b64(self):
        return base64.b64encode(self.material).decode()

    def params(self):
        """The key-params of a=crypto: inline:...[|MKI:LEN]."""
        s = "inline:" + self.b64()
        if self.mki:
            s += "|%d:%d" % self.mki
        return s

    def spec(self):
        """rtpanchor-udpgen's --srtp KEY."""
        return f"{self.suite}:{self.params()}"

    def line(self, tag):
        return f"a=crypto:{tag} {self.suite} {self.params()}\r\n"

    def wrong(self):
        """Same suite and salt, every key byte inverted."""
        klen = SUITES[self.suite][0]
        return Key(self.suite, bytes(b ^ 0xFF for b in self.material[:klen])
                   + self.material[klen:], self.mki)

    def __eq__(self, other):
        return (isinstance(other, Key) and self.suite == other.suite
                and self.material == other.material and self.mki == other.mki)

    def __repr__(self):
        # Never the key itself: test output may be published.
        return f"Key({self.suite}, mki={self.mki})"


_CRYPTO = re.compile(r"a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)((?:\|[^ \r\n]*)?)(.*)")


def cryptos(sdp_text):
    """[(tag, Key)] of every a=crypto line of the SDP, in order."""
    out = []
    for line in sdp_text.replace("\r\n", "\n").split("\n"):
        m = _CRYPTO.fullmatch(line.strip())
        if not m:
            continue
        mki = None
        for p in m.group(4).split("|")[1:]:
            if ":" in p:
                v, n = p.split(":")
                mki = (int(v), int(n))
        out.append((int(m.group(1)), Key(m.group(2), base64.b64decode(m.group(3)), mki)))
    return out


def profile(sdp_text):
    """The transport protocol of the first m= line."""
    m = re.search(r"^m=\w+ \d+ (\S+) ", sdp_text, re.M)
    return m.group(1) if m else None


def sdp(addr, port, proto="RTP/AVP", keys=(), extra="", session="-"):
    """An audio SDP (PCMU/PCMA) with the given profile and (tag, Key) a=crypto lines."""
    lines = "".join(k.line(tag) for tag, k in keys)
    return ("v=0\r\n"
            f"o={session} 4711 1 IN IP4 {addr}\r\n"
            "s=-\r\n"
            f"c=IN IP4 {addr}\r\n"
            "t=0 0\r\n"
            f"m=audio {port} {proto} 0 8\r\n"
            "a=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:8 PCMA/8000\r\n"
            f"{lines}{extra}"
            "a=sendrecv\r\n")


def rtp(seq, ssrc, body, pt=0, ts=None, marker=False, csrcs=(), ext=None, pad=0):
    """An RTP packet: optional CSRC list, header extension (profile, bytes padded to 32-bit
    words) and padding (pad bytes, the last one its count)."""
    ts = seq * 160 if ts is None else ts
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if ext is not None else 0) | len(csrcs)
    h = struct.pack("!BBHII", b0, (0x80 if marker else 0) | (pt & 0x7F), seq & 0xFFFF,
                    ts & 0xFFFFFFFF, ssrc)
    h += b"".join(struct.pack("!I", c) for c in csrcs)
    if ext is not None:
        prof, data = ext
        data += b"\0" * (-len(data) % 4)
        h += struct.pack("!HH", prof, len(data) // 4) + data
    tail = (b"\0" * (pad - 1) + bytes([pad])) if pad else b""
    return h + body + tail


def rtcp_sr(ssrc, tag, packets=1, octets=160):
    """An RTCP sender report without report blocks, then 8 tag bytes as its profile-specific
    extension (RFC 3550 section 6.4.1), so it can be recognised."""
    body = struct.pack("!IIIII", 0x83AA7E80, 0x12345678, packets * 160, packets, octets) + tag
    return struct.pack("!BBHI", 0x80, 200, (8 + len(body)) // 4 - 1, ssrc) + body


class Filter:
    """`rtpanchor-udpgen protect|unprotect`: one libsrtp2 session for the object's life."""

    def __init__(self, op, key, window=None):
        argv = [UDPGEN, op, "--srtp", key.spec()]
        if window:
            argv += ["--window", str(window)]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def run(self, packet):
        """(verdict, bytes or None): verdict "ok", "auth_fail", "replay" or "srtp_other"."""
        self.proc.stdin.write(packet.hex() + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline().strip()
        if not line:
            raise AssertionError(f"udpgen filter died: {self.proc.stderr.read()}")
        if line.startswith("ok "):
            return "ok", bytes.fromhex(line[3:])
        if line.startswith("error"):
            raise AssertionError(f"udpgen filter: {line}")
        return line, None

    def __call__(self, packet):
        """The transformed packet; asserts that libsrtp2 accepted it."""
        verdict, out = self.run(packet)
        assert verdict == "ok", f"libsrtp2: {verdict}"
        return out

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def bound(ns, port):
    """True once something listens on UDP port in namespace ns."""
    out = netns.run(["ss", "-Huln", f"sport = :{port}"], ns=ns, check=False).stdout
    return f":{port} " in out


class Udpgen:
    """rtpanchor-udpgen in a namespace; result() waits for its JSON summary."""

    def __init__(self, ns, mode, *args, timeout=30):
        self.argv = ["ip", "netns", "exec", ns, UDPGEN, mode, *[str(a) for a in args]]
        self.timeout = timeout
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self.out = None

    def wait_bound(self, ns, port, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not bound(ns, port):
            if self.proc.poll() is not None:
                raise AssertionError(f"udpgen exited {self.proc.returncode}: "
                                     f"{self.proc.stderr.read()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"udpgen did not bind port {port} in {timeout}s")
            time.sleep(0.02)
        return self

    def result(self, rc=0):
        """The summary as a dict; asserts the exit code."""
        try:
            out, err = self.proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"udpgen ran over {self.timeout}s: {' '.join(self.argv)}")
        assert self.proc.returncode == rc, (self.argv, self.proc.returncode, out, err)
        self.out = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
        return self.out

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def run_udpgen(ns, mode, *args, rc=0, timeout=30):
    return Udpgen(ns, mode, *args, timeout=timeout).result(rc)


# ---- fixtures (imported by the test_srtp* modules) ----

import pytest  # noqa: E402


@pytest.fixture
def gen():
    """gen(ns, mode, *args) -> a running Udpgen; any still running is killed afterwards."""
    made = []

    def make(ns, mode, *args, timeout=30):
        g = Udpgen(ns, mode, *args, timeout=timeout)
        made.append(g)
        return g

    yield make
    for g in made:
        g.kill()


@pytest.fixture
def srtp_filter():
    """srtp_filter("protect"|"unprotect", Key) -> Filter, closed afterwards."""
    made = []

    def make(op, key, window=None):
        f = Filter(op, key, window)
        made.append(f)
        return f

    yield make
    for f in made:
        f.close()
