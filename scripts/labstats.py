#!/usr/bin/env python3
# Live per-second statistics of a running dataplane for scripts/lab.sh: polls
# `rtpanchor --json dataplane stats` and prints packet rates per port and drops per reason.
# Runs until --duration seconds have passed or SIGINT/SIGTERM.
import argparse
import json
import signal
import subprocess
import sys
import time


def stats(cli, sock):
    p = subprocess.run([cli, "--socket", sock, "--json", "dataplane", "stats"],
                       capture_output=True, text=True, timeout=5, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip() or f"rtpanchor exited {p.returncode}")
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--duration", type=float, default=0, help="0 = until interrupted")
    args = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    start = time.monotonic()
    prev, prev_t = stats(args.cli, args.socket), time.monotonic()
    names = [p["name"] for p in prev["ports"]]
    head = "  time " + "".join(f"{n + ' rx/s':>22}{n + ' tx/s':>22}" for n in names)
    print(head + f"{'drops/s':>10}  streams  drops by reason (total)", flush=True)
    try:
        while not stop:
            time.sleep(1.0)
            cur, t = stats(args.cli, args.socket), time.monotonic()
            dt = t - prev_t
            line = f"{t - start:6.0f}"
            for p, q in zip(cur["ports"], prev["ports"]):
                line += f"{(p['rx_pkts'] - q['rx_pkts']) / dt:22,.0f}"
                line += f"{(p['tx_pkts'] - q['tx_pkts']) / dt:22,.0f}"
            d_now = {r: d["total"] for r, d in cur["drops"].items()}
            d_prev = {r: d["total"] for r, d in prev["drops"].items()}
            rate = sum(d_now.values()) - sum(d_prev.values())
            reasons = " ".join(f"{r}={v}" for r, v in sorted(d_now.items()) if v)
            print(f"{line}{rate / dt:10,.0f}  {cur['streams']:7}  {reasons or '-'}", flush=True)
            prev, prev_t = cur, t
            if args.duration and t - start >= args.duration:
                break
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
