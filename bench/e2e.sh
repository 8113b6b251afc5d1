#!/bin/bash
# End-to-end lab benchmark: the real rtpanchor-dataplane on net_af_packet between network
# namespaces, RTP from rtpanchor-udpgen through the relay. Prints offered, generated and
# forwarded pps, loss, and which side was the limit. Needs root; always cleans up.
#
#   A (192.0.2.10) a0 ── dpa [rtpanchor-dataplane in ns dp] dpb ── b0 B (198.51.100.10)
#   stream i: A:21000+2i -> 192.0.2.1:30000+2i ==relay==> 198.51.100.1:30000+2i -> B:20000+2i
set -euo pipefail

usage() {
	cat <<EOF
usage: bench/e2e.sh [--build DIR] [--rate PPS[,PPS...]] [--duration S] [--streams N]
                    [--size BYTES] [--runs N] [--worker-core C] [--gen-core C]
                    [--vdev-args K=V,...] [--keep-log]
  --rate      offered rate(s) in packets/s over all streams, 0 = as fast as the generator
              can (default 250000)
  --duration  seconds of traffic per run (default 3)
  --streams   RTP streams, each installed with 'rtpanchor dataplane add' (default 1)
  --size      RTP payload bytes (default 160: 214-byte frames)
  --runs      runs per rate; the median is reported (default 3)
  --worker-core / --gen-core  the dataplane worker lcore (default 1) and the core the
              generator, the receiver and the dataplane's main lcore share (default 0)
  --vdev-args extra net_af_packet arguments for both ports (default framecnt=4096;
              '' = the PMD's defaults, a 512-frame socket ring)
  --keep-log  keep the dataplane log in /tmp/rpabench-dataplane.log (kept on failure)
  --build     build directory (default \$BUILD_DIR or build/)
EOF
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
RATES=250000
DURATION=3
STREAMS=1
SIZE=160
RUNS=3
WORKER_CORE=1
GEN_CORE=0
KEEP_LOG=0
# The PMD's default socket ring (512 frames) holds 2 ms at 250k pps: less than a worker
# preempted on a shared 2-vCPU VM may miss. 4096 frames is a normal deployment setting.
VDEV_ARGS=,framecnt=4096
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift ;;
	--rate) RATES=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--streams) STREAMS=$2; shift ;;
	--size) SIZE=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	--worker-core) WORKER_CORE=$2; shift ;;
	--gen-core) GEN_CORE=$2; shift ;;
	--vdev-args) VDEV_ARGS=${2:+,$2}; shift ;;
	--keep-log) KEEP_LOG=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "e2e.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
for v in DURATION STREAMS SIZE RUNS WORKER_CORE GEN_CORE; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "e2e.sh: --${v,,} '${!v}' is not a number" >&2; exit 2; }
done
[[ $RATES =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "e2e.sh: --rate '$RATES' is not PPS[,PPS]" >&2; exit 2; }
[ "$STREAMS" -ge 1 ] && [ "$STREAMS" -le 2500 ] || { echo "e2e.sh: --streams 1..2500" >&2; exit 2; }
[ "$RUNS" -ge 1 ] && [ "$DURATION" -ge 1 ] || { echo "e2e.sh: --runs and --duration >= 1" >&2; exit 2; }
[ "$WORKER_CORE" != "$GEN_CORE" ] || { echo "e2e.sh: worker and generator need different cores" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "e2e.sh: needs root (network namespaces, DPDK): sudo $0" >&2; exit 2; }
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
DP=$BUILD/dataplane/rtpanchor-dataplane
CLI=$BUILD/tools/rtpanchor
GEN=$BUILD/bench/rtpanchor-udpgen
for b in "$DP" "$CLI" "$GEN"; do
	[ -x "$b" ] || { echo "e2e.sh: $b not built (ninja -C $BUILD)" >&2; exit 2; }
done
for t in ip ethtool taskset python3; do
	command -v $t >/dev/null || { echo "e2e.sh: '$t' missing (apt-get install iproute2 ethtool util-linux python3)" >&2; exit 2; }
done

PREFIX=rpabench-
NS_A=${PREFIX}$$-a
NS_DP=${PREFIX}$$-dp
NS_B=${PREFIX}$$-b
TMP=$(mktemp -d /tmp/rpabench.XXXXXX)
SOCK=$TMP/dp.sock
PIDS=()

cleanup() {
	local rc=$? p ns
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for ns in "$NS_A" "$NS_DP" "$NS_B"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
	if [ "$KEEP_LOG" = 1 ] || [ $rc -ne 0 ]; then
		[ -f "$TMP/dp.log" ] && cp "$TMP/dp.log" "/tmp/rpabench-dataplane.log" &&
			echo "dataplane log: /tmp/rpabench-dataplane.log" >&2
	fi
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A reaped child leaves the list, so cleanup never signals a recycled pid.
forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

die() {
	echo "e2e.sh: $*" >&2
	[ -f "$TMP/dp.log" ] && tail -n 20 "$TMP/dp.log" >&2
	exit 1
}

# Namespaces of an earlier run that was killed before it could clean up.
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX" || true); do
	pid=${ns#"$PREFIX"}
	pid=${pid%%-*}
	if [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	fi
done

for ns in "$NS_A" "$NS_DP" "$NS_B"; do
	ip netns add "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
veth() { # ns1 if1 ns2 if2
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3"
	# veth trap: with tx checksum offload the frames reach af_packet with a partial UDP
	# checksum, which the relay would forward unfinished.
	ip netns exec "$1" ethtool -K "$2" tx off rx off >/dev/null
	ip netns exec "$3" ethtool -K "$4" tx off rx off >/dev/null
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}
veth "$NS_A" a0 "$NS_DP" dpa
veth "$NS_B" b0 "$NS_DP" dpb
ip -n "$NS_A" addr add 192.0.2.10/24 dev a0
ip -n "$NS_B" addr add 198.51.100.10/24 dev b0

ip netns exec "$NS_DP" "$DP" -l "$GEN_CORE,$WORKER_CORE" --no-pci --no-huge -m 512 --no-shconf \
	--vdev "net_af_packet0,iface=dpa$VDEV_ARGS" --vdev "net_af_packet1,iface=dpb$VDEV_ARGS" -- \
	--addr net_af_packet0=192.0.2.1/24 --addr net_af_packet1=198.51.100.1/24 \
	--socket "$SOCK" --max-streams 65536 >"$TMP/dp.log" 2>&1 &
PIDS+=($!)
for i in $(seq 150); do
	"$CLI" --socket "$SOCK" dataplane hello >/dev/null 2>&1 && break
	kill -0 "${PIDS[0]}" 2>/dev/null || die "rtpanchor-dataplane exited while starting"
	[ "$i" -lt 150 ] || die "rtpanchor-dataplane did not answer hello within 15 s"
	sleep 0.1
done

for ((i = 0; i < STREAMS; i++)); do
	"$CLI" --socket "$SOCK" dataplane add --local "192.0.2.1:$((30000 + 2 * i))" \
		--src "198.51.100.1:$((30000 + 2 * i))" --dst "198.51.100.10:$((20000 + 2 * i))" \
		--no-latch >/dev/null || die "dataplane add for stream $i failed"
done

# Relay counters, plus the kernel's: veth counters on both sides of the relay and the
# per-CPU backlog drops, so a loss can be placed before, in or after the relay.
stats() {
	local out=$1 l
	"$CLI" --socket "$SOCK" --json dataplane stats >"$out" || die "dataplane stats failed"
	{
		for l in "$NS_A:a0" "$NS_DP:dpa" "$NS_DP:dpb" "$NS_B:b0"; do
			printf '%s ' "${l#*:}"
			ip -n "${l%%:*}" -s -j link show dev "${l#*:}"
			echo
		done
		local d=0 x
		while read -r _ x _; do d=$((d + 16#$x)); done </proc/net/softnet_stat
		echo "softnet $d"
	} >"$out.kernel"
}

# One pass: B receives, A sends. $1 rate, $2 count, $3 output prefix.
pass() {
	local rpid
	ip netns exec "$NS_B" taskset -c "$GEN_CORE" "$GEN" recv --bind 198.51.100.10:20000 \
		--streams "$STREAMS" --expect "$2" --idle-exit 1 --duration $((DURATION * 4 + 10)) \
		>"$3.recv" &
	rpid=$!
	PIDS+=($rpid)
	sleep 0.3
	ip netns exec "$NS_A" taskset -c "$GEN_CORE" "$GEN" send --dst 192.0.2.1:30000 \
		--bind 192.0.2.10:21000 --streams "$STREAMS" --rate "$1" --count "$2" \
		--size "$SIZE" >"$3.send" || die "generator failed"
	wait "$rpid" || die "receiver reported corrupt or misrouted packets: $(cat "$3.recv")"
	forget "$rpid"
}

# Warm-up: ARP on both sides (kernel in A, relay toward B) before anything is measured.
pass 1000 $((STREAMS * 5 > 50 ? STREAMS * 5 : 50)) "$TMP/warm"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j["received"] > 0 else 1)' \
	"$TMP/warm.recv" || die "warm-up: nothing crossed the relay"

echo "rtpanchor e2e: net_af_packet over veth, $STREAMS stream(s), $((SIZE + 54))-byte frames," \
	"${DURATION}s per run, median of $RUNS; worker on core $WORKER_CORE, generator," \
	"receiver and main lcore on core $GEN_CORE"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cpus," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
# Another busy-polling dataplane (e.g. a functional test) on the same cores halves the
# worker's share: say so, because the figures below are then not the relay's.
others=$(ps -eo pid=,comm= | awk -v me="${PIDS[0]}" '$2 ~ /^rtpanchor-datap/ && $1 != me' | wc -l)
[ "$others" -eq 0 ] || echo "warning: $others other rtpanchor-dataplane process(es) running: results are skewed"
IFS=, read -r -a rate_list <<<"$RATES"
for rate in "${rate_list[@]}"; do
	count=$((rate > 0 ? rate * DURATION : 400000 * DURATION))
	for ((r = 1; r <= RUNS; r++)); do
		out=$TMP/r$rate.$r
		stats "$out.before"
		if [ "$rate" -gt 0 ]; then
			pass "$rate" "$count" "$out"
		else
			# As fast as possible, bounded by time: the count is only an upper bound.
			pass 0 "$count" "$out"
		fi
		stats "$out.after"
	done
	python3 - "$TMP" "$rate" "$RUNS" <<'EOF'
import json, statistics, sys

tmp, rate, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = []
for r in range(1, runs + 1):
    p = f"{tmp}/r{rate}.{r}"
    s, v = json.load(open(p + ".send")), json.load(open(p + ".recv"))
    b, a = json.load(open(p + ".before")), json.load(open(p + ".after"))
    def port(j, i, k):
        return j["ports"][i][k]
    d = lambda i, k: port(a, i, k) - port(b, i, k)
    wb = sum(w["busy_cycles"] for w in a["workers"]) - sum(w["busy_cycles"] for w in b["workers"])
    wrx = sum(w["rx_pkts"] for w in a["workers"]) - sum(w["rx_pkts"] for w in b["workers"])
    row = {
        "gen": s["pps"], "sent": s["sent"], "fwd": v["pps"], "recv": v["received"],
        "lost": v["lost"], "loss": v["lost"] / s["sent"] if s["sent"] else 1.0,
        "dp_rx": d(0, "rx_pkts"), "dp_tx": d(1, "tx_pkts"),
        "dp_drops": sum(d(i, "drops") for i in range(len(a["ports"]))),
        "imissed": sum(d(i, "hw_imissed") for i in range(len(a["ports"]))),
        "cpp": wb / wrx if wrx else 0.0, "p99": v.get("latency_us", {}).get("p99", 0.0),
    }
    def kern(path):
        k = {}
        for line in open(path):
            if not line.strip():
                continue
            name, _, rest = line.partition(" ")
            k[name] = int(rest) if name == "softnet" else json.loads(rest)[0]["stats64"]
        return k
    kb, ka = kern(p + ".before.kernel"), kern(p + ".after.kernel")
    kd = lambda dev, d, k: ka[dev][d][k] - kb[dev][d][k]
    # Lost on the way into the relay: sent by A's veth but not delivered to af_packet.
    row["pre_relay"] = max(0, row["sent"] - row["dp_rx"])
    row["kdrop"] = (kd("a0", "tx", "dropped") + kd("dpa", "rx", "dropped") +
                    kd("dpb", "tx", "dropped") + kd("b0", "rx", "dropped") +
                    ka["softnet"] - kb["softnet"])
    rows.append(row)
    print(f"  run {r}: offered {rate or 'max'} pps, generator {row['gen']:.0f} pps, "
          f"forwarded {row['fwd']:.0f} pps, lost {row['lost']} of {row['sent']} "
          f"({row['loss'] * 100:.3f}%), relay rx {row['dp_rx']} tx {row['dp_tx']} "
          f"drops {row['dp_drops']} rx-missed {row['imissed']}, kernel drops {row['kdrop']}, "
          f"worker {row['cpp']:.0f} busy cycles/pkt, p99 latency {row['p99']:.0f} us")
med = {k: statistics.median(x[k] for x in rows) for k in rows[0]}
if rate > 0 and med["gen"] < 0.97 * rate:
    limit = (f"the generator: it reached only {med['gen']:.0f} of {rate} pps offered "
             f"(udpgen alone measured ~383k UDP pps on this class of machine)")
elif rate == 0 and med["loss"] < 0.001:
    limit = (f"the generator: flat out it sent {med['gen']:.0f} pps (sharing its core with "
             "the receiver) and the relay forwarded all of it (loss < 0.1%)")
elif med["loss"] < 0.001:
    limit = ("neither at this rate: everything the generator sent was forwarded "
             "(loss < 0.1%); offer more to find the ceiling")
elif med["imissed"] + med["dp_drops"] >= 0.5 * med["lost"]:
    limit = ("the relay: most loss is af_packet rx-ring overflow or relay drops "
             f"({med['imissed']:.0f} missed, {med['dp_drops']:.0f} dropped)")
elif med["pre_relay"] >= 0.5 * med["lost"]:
    where = (f"{med['kdrop']:.0f} counted by the kernel (veth/backlog)" if med["kdrop"]
             else "not counted by veth or the backlog: the af_packet socket ring, i.e. the "
             "relay's worker did not poll fast enough")
    limit = (f"the path into the relay: {med['pre_relay']:.0f} packets sent by A never "
             f"reached the worker ({where})")
elif med["dp_tx"] >= med["recv"] + 0.5 * med["lost"]:
    limit = ("the receiver: the relay transmitted what it got, the kernel socket in B "
             "dropped it (receiver shares the generator's core)")
else:
    limit = "the relay's transmit path or the veth between relay and receiver"
print(f"rate {rate or 'max'}: median offered {rate or 'max'} pps, generator {med['gen']:.0f} pps, "
      f"forwarded {med['fwd']:.0f} pps, loss {med['loss'] * 100:.3f}%, "
      f"worker {med['cpp']:.0f} busy cycles/pkt; limit: {limit}")
print(json.dumps({"rate": rate, "median": med, "runs": rows}))
EOF
done
