# Packet tools for the functional tests: RTP payloads, Ethernet/IPv4/UDP frames built and
# checked independently of the dataplane's code, UDP endpoints and raw captures in
# namespaces. Everything that waits takes a deadline.
import os
import select
import socket
import struct
import time

import netns

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
PACKET_OUTGOING = 4
IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)
IP_TTL = getattr(socket, "IP_TTL", 2)


def rtp(seq, ssrc, body, pt=0, ts=None):
    """An RTP packet (RFC 3550 fixed header) around body."""
    ts = seq * 160 if ts is None else ts
    return struct.pack("!BBHII", 0x80, pt & 0x7F, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc) + body


def rtcp_rr(ssrc, tag):
    """An RTCP receiver report with no blocks, followed by 8 tag bytes to identify it."""
    return struct.pack("!BBHI", 0x80, 201, 1, ssrc) + tag


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_csum(src, dst, udp):
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, len(udp))
    c = csum(pseudo + udp)
    return c or 0xFFFF


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def mac_str(b):
    return ":".join(f"{x:02x}" for x in b)


def frame(src_mac, dst_mac, src, sport, dst, dport, payload, ttl=64, ident=1,
          options=b"", frag=0, ip_len_delta=0, udp_len_delta=0, bad_ip_csum=False,
          proto=17, version=4, ethertype=ETH_P_IP):
    """An Ethernet/IPv4/UDP frame; the keyword arguments break it in the ways a hostile
    sender would."""
    udp_len = 8 + len(payload)
    udp = struct.pack("!HHHH", sport, dport, udp_len + udp_len_delta, 0) + payload
    uc = udp_csum(src, dst, udp) if udp_len_delta == 0 else 0
    udp = udp[:6] + struct.pack("!H", uc) + udp[8:]
    ihl = 5 + len(options) // 4
    total = ihl * 4 + len(udp) + ip_len_delta
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | ihl, 0, total, ident, frag, ttl,
                      proto, 0, socket.inet_aton(src), socket.inet_aton(dst)) + options
    c = csum(hdr)
    if bad_ip_csum:
        c ^= 0x5A5A
    hdr = hdr[:10] + struct.pack("!H", c) + hdr[12:]
    return mac_bytes(dst_mac) + mac_bytes(src_mac) + struct.pack("!H", ethertype) + hdr + udp


def parse(fr):
    """Decodes an Ethernet/IPv4/UDP frame and verifies both checksums; returns a dict or
    None if it is not IPv4/UDP."""
    if len(fr) < 14 + 20 + 8 or struct.unpack("!H", fr[12:14])[0] != ETH_P_IP:
        return None
    ip_hdr = fr[14:]
    vihl, _, total, ident, frag, ttl, proto, _ = struct.unpack("!BBHHHBBH", ip_hdr[:12])
    ihl = (vihl & 0xF) * 4
    if proto != 17:
        return None
    src = socket.inet_ntoa(ip_hdr[12:16])
    dst = socket.inet_ntoa(ip_hdr[16:20])
    udp = ip_hdr[ihl:total]
    sport, dport, ulen, ucsum = struct.unpack("!HHHH", udp[:8])
    return {
        "dst_mac": mac_str(fr[0:6]), "src_mac": mac_str(fr[6:12]),
        "version": vihl >> 4, "ihl": ihl, "total_len": total, "frame_ip_len": len(ip_hdr),
        "frag": frag, "ttl": ttl, "src": src, "dst": dst, "sport": sport, "dport": dport,
        "udp_len": ulen, "ip_csum_ok": csum(ip_hdr[:ihl]) == 0,
        "udp_csum": ucsum,
        "udp_csum_ok": ucsum != 0 and udp_csum(src, dst, udp[:6] + b"\0\0" + udp[8:]) == ucsum,
        "payload": udp[8:ulen],
    }


class Udp:
    """A kernel UDP socket bound inside a namespace, reporting each datagram's TTL."""

    def __init__(self, ns, addr, port):
        self.sock = netns.socket_in(ns)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
        self.sock.bind((addr, port))
        self.sock.setblocking(False)
        self.addr = (addr, port)

    def send(self, dst, data):
        self.sock.sendto(data, dst)

    def recv(self, count=1, timeout=2.0):
        """Up to count datagrams as (payload, (ip, port), ttl), waiting at most timeout."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not select.select([self.sock], [], [], left)[0]:
                break
            while len(out) < count:
                try:
                    data, anc, _, src = self.sock.recvmsg(65536, socket.CMSG_SPACE(4))
                except BlockingIOError:
                    break
                ttl = None
                for level, typ, val in anc:
                    if level == socket.IPPROTO_IP and typ == IP_TTL:
                        ttl = struct.unpack("i", val[:4])[0]
                out.append((data, src, ttl))
        return out

    def drain(self):
        n = 0
        while True:
            try:
                self.sock.recv(65536)
                n += 1
            except BlockingIOError:
                return n

    def close(self):
        self.sock.close()


class Capture:
    """Raw frames received on an interface inside a namespace (outgoing ones ignored)."""

    def __init__(self, ns, ifname, ethertype=ETH_P_ALL):
        self.sock = netns.socket_in(ns, socket.AF_PACKET, socket.SOCK_RAW,
                                    socket.htons(ethertype))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((ifname, ethertype))
        self.sock.setblocking(False)
        self.ifname = ifname

    def send(self, fr):
        self.sock.send(fr)

    def frames(self, match, count=1, timeout=2.0):
        """Received frames for which match(frame) is true, at most count."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                break
            while len(out) < count:
                try:
                    fr, addr = self.sock.recvfrom(65536)
                except BlockingIOError:
                    break
                if addr[2] != PACKET_OUTGOING and match(fr):
                    out.append(fr)
        return out

    def close(self):
        self.sock.close()


def payload(n, tag):
    """n bytes: an 8-byte tag then random bytes, so corruption anywhere shows."""
    return struct.pack("!Q", tag) + os.urandom(max(0, n - 8))


def warm_up(sender, dst, receiver, timeout=5.0, interval=0.05):
    """Sends distinct probe packets until one comes through (ARP and latching may drop the
    first ones, which the relay is allowed to do). Returns the probes that arrived, or
    an empty list; then empties the receiver."""
    deadline = time.monotonic() + timeout
    i = 0
    got = []
    while time.monotonic() < deadline and not got:
        sender.send(dst, rtp(60000 + i, 0x57A2A2, b"warm-up-probe-%d" % i))
        i += 1
        got = receiver.recv(1, interval)
    time.sleep(0.05)
    receiver.drain()
    return got


def wait_for(pred, timeout, interval=0.05, what="condition"):
    """Polls pred() until it returns a true value; returns it, or raises with what."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
