#!/bin/bash
# The lab (README command 1): installs what is missing, builds, joins network namespaces
# with veth pairs, runs rtpanchor-dataplane on net_af_packet, installs calls with the CLI,
# sends RTP both ways with rtpanchor-udpgen and prints live statistics; cleans up on exit.
#
#   rpa-lab-a 192.0.2.10 ── a0|dpa ─ rpa-lab-dp ─ dpb|rdp ─┐ rpa-lab-r: br0 198.51.100.254
#                          192.0.2.1   (dataplane)   198.51.100.1 │ ── rb|b0 rpa-lab-b 198.51.100.10
#                                                                 └ rc 203.0.113.1 ── c0 rpa-lab-c 203.0.113.10
set -u
. "$(dirname -- "$0")/lib.sh"

usage() {
	cat <<EOF
usage: sudo ./scripts/lab.sh [--duration S] [--calls N] [--rate PPS] [--size BYTES]
                             [--no-build] [--help]
  --duration S   run S seconds, then clean up (default: until Ctrl-C)
  --calls N      A<->B calls to install, 1..1000 (default 4); one more call A<->C goes
                 through the router namespace (the dataplane's --gateway)
  --rate PPS     RTP packets per second A sends over all A<->B calls (default 2000);
                 B echoes every packet back through the relay
  --size BYTES   RTP payload bytes (default 160)
  --no-build     skip the dependency check and the build
Namespaces rpa-lab-{dp,a,b,r,c}; the dataplane log and socket go to a temporary
directory that is printed at start and removed at exit.
EOF
}

duration=0
calls=4
rate=2000
size=160
build=1
while [ $# -gt 0 ]; do
	case $1 in
	--duration) duration=${2:?--duration needs seconds}; shift 2 ;;
	--calls) calls=${2:?--calls needs a number}; shift 2 ;;
	--rate) rate=${2:?--rate needs packets per second}; shift 2 ;;
	--size) size=${2:?--size needs bytes}; shift 2 ;;
	--no-build) build=0; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "lab.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
for v in "$duration" "$calls" "$rate" "$size"; do
	case $v in '' | *[!0-9]*) echo "lab.sh: '$v' is not a number" >&2; exit 2 ;; esac
done
if [ "$calls" -lt 1 ] || [ "$calls" -gt 1000 ]; then
	echo "lab.sh: --calls must be 1..1000" >&2
	exit 2
fi
rpa_need_root

if [ "$build" -eq 1 ]; then
	"$RPA_ROOT/scripts/deps.sh" || exit 1
	"$RPA_ROOT/scripts/build.sh" || exit 1
fi
for b in "$RPA_DATAPLANE" "$RPA_CLI" "$RPA_UDPGEN"; do
	[ -x "$b" ] || rpa_die "$b is missing: run scripts/build.sh"
done

NS_DP=rpa-lab-dp NS_A=rpa-lab-a NS_B=rpa-lab-b NS_R=rpa-lab-r NS_C=rpa-lab-c
ALL_NS="$NS_DP $NS_A $NS_B $NS_R $NS_C"
WORK=$(mktemp -d /tmp/rpa-lab.XXXXXX)
SOCK=$WORK/dataplane.sock
DP_PID=
GEN_PIDS=

cleanup() {
	trap - EXIT INT TERM
	set +e
	for p in $GEN_PIDS; do kill -INT "$p" 2>/dev/null; done
	for p in $GEN_PIDS; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$p" 2>/dev/null
	done
	# shellcheck disable=SC2086 # a list of pids
	wait $GEN_PIDS 2>/dev/null
	for f in "$WORK"/gen-*.json; do
		[ -s "$f" ] && printf '%s: %s\n' "$(basename "$f" .json)" "$(cat "$f")"
	done
	if [ -n "$DP_PID" ] && kill -0 "$DP_PID" 2>/dev/null; then
		kill -TERM "$DP_PID"
		for _ in $(seq 50); do kill -0 "$DP_PID" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$DP_PID" 2>/dev/null
		wait "$DP_PID" 2>/dev/null
		rpa_log "dataplane exited $?"
	fi
	for ns in $ALL_NS; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$WORK"
	rpa_log "lab cleaned up"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Only for foreground commands: a background job must be `ip netns exec` itself so that $!
# is the program's pid (ip execs it) and not a subshell's.
nsx() { ip netns exec "$@"; }
veth() { # ns1 if1 ns2 if2
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" || return 1
	# Full checksums on the wire: af_packet would otherwise see partial UDP checksums.
	nsx "$1" ethtool -K "$2" tx off rx off >/dev/null && nsx "$3" ethtool -K "$4" tx off rx off >/dev/null &&
		ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

topology() {
	local ns
	for ns in $ALL_NS; do
		ip netns del "$ns" 2>/dev/null # a lab killed before its cleanup ran
		ip netns add "$ns" || return 1
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
			net.ipv4.ip_forward=0 || return 1
		ip -n "$ns" link set lo up
	done
	veth $NS_A a0 $NS_DP dpa && veth $NS_R rdp $NS_DP dpb && veth $NS_B b0 $NS_R rb &&
		veth $NS_C c0 $NS_R rc || return 1
	ip -n $NS_R link add br0 type bridge stp_state 0 forward_delay 0 &&
		ip -n $NS_R link set rdp master br0 && ip -n $NS_R link set rb master br0 &&
		ip -n $NS_R link set br0 up &&
		ip -n $NS_R addr add 198.51.100.254/24 dev br0 &&
		ip -n $NS_R addr add 203.0.113.1/24 dev rc &&
		nsx $NS_R sysctl -qw net.ipv4.ip_forward=1 &&
		ip -n $NS_A addr add 192.0.2.10/24 dev a0 &&
		ip -n $NS_B addr add 198.51.100.10/24 dev b0 &&
		ip -n $NS_C addr add 203.0.113.10/24 dev c0 &&
		ip -n $NS_C route add default via 203.0.113.1
}

rpa_log "namespaces: $ALL_NS (work dir $WORK)"
topology || rpa_die "could not build the lab topology"

rpa_log "starting rtpanchor-dataplane (log $WORK/dataplane.log)"
ip netns exec $NS_DP "$RPA_DATAPLANE" -l 0,1 --no-pci --no-huge -m 512 --no-shconf \
	--vdev net_af_packet0,iface=dpa --vdev net_af_packet1,iface=dpb -- \
	--addr net_af_packet0=192.0.2.1/24 --addr net_af_packet1=198.51.100.1/24 \
	--gateway net_af_packet1=198.51.100.254 --socket "$SOCK" --idle-backoff --max-streams 65536 \
	>"$WORK/dataplane.log" 2>&1 </dev/null &
DP_PID=$!
cli() { "$RPA_CLI" --socket "$SOCK" "$@"; }
for i in $(seq 150); do
	kill -0 "$DP_PID" 2>/dev/null || { tail -30 "$WORK/dataplane.log" >&2; rpa_die "dataplane exited"; }
	[ -S "$SOCK" ] && cli dataplane hello >/dev/null 2>&1 && break
	[ "$i" -eq 150 ] && { tail -30 "$WORK/dataplane.log" >&2; rpa_die "dataplane did not answer in 30 s"; }
	sleep 0.2
done
cli dataplane hello

# Call i: A's media arrives at 192.0.2.1:30000+4i and leaves from 198.51.100.1:30002+4i to
# B; RTCP likewise on +1. A's address is learnt by latching (as behind a NAT).
rpa_log "installing $calls A<->B calls (RTP and RTCP streams) and one A<->C call"
for i in $(seq 0 $((calls - 1))); do
	pa=$((30000 + 4 * i)) pb=$((30002 + 4 * i)) peer=$((20002 + 4 * i))
	for o in 0 1; do
		cli dataplane add --local 192.0.2.1:$((pa + o)) --src 198.51.100.1:$((pb + o)) \
			--dst 198.51.100.10:$((peer + o)) --tag $((i + 1)) >/dev/null ||
			rpa_die "stream install failed"
		cli dataplane add --local 198.51.100.1:$((pb + o)) --src 192.0.2.1:$((pa + o)) \
			--tag $((i + 1)) >/dev/null || rpa_die "stream install failed"
	done
done
cli dataplane add --local 192.0.2.1:34000 --src 198.51.100.1:34002 --dst 203.0.113.10:24002 \
	--tag 9999 >/dev/null || rpa_die "stream install failed"
cli dataplane add --local 198.51.100.1:34002 --src 192.0.2.1:34000 --tag 9999 >/dev/null ||
	rpa_die "stream install failed"
cli dataplane list | head -12

gen_secs=$duration
[ "$gen_secs" -eq 0 ] && gen_secs=86400
rpa_log "RTP: A -> relay -> B and back (echo), $rate pps over $calls calls; A -> C at 50 pps"
ip netns exec $NS_B "$RPA_UDPGEN" echo --bind 198.51.100.10:20002 --streams "$calls" --port-step 4 \
	--duration $((gen_secs + 3)) >"$WORK/gen-echo-B.json" 2>/dev/null </dev/null &
GEN_PIDS="$GEN_PIDS $!"
ip netns exec $NS_C "$RPA_UDPGEN" echo --bind 203.0.113.10:24002 --duration $((gen_secs + 3)) \
	>"$WORK/gen-echo-C.json" 2>/dev/null </dev/null &
GEN_PIDS="$GEN_PIDS $!"
sleep 0.3
ip netns exec $NS_A "$RPA_UDPGEN" send --dst 192.0.2.1:30000 --bind 192.0.2.10:21000 --streams "$calls" \
	--port-step 4 --rate "$rate" --size "$size" --duration "$gen_secs" --replies \
	>"$WORK/gen-send-A-to-B.json" 2>/dev/null </dev/null &
GEN_PIDS="$GEN_PIDS $!"
ip netns exec $NS_A "$RPA_UDPGEN" send --dst 192.0.2.1:34000 --bind 192.0.2.10:22000 --rate 50 \
	--size "$size" --duration "$gen_secs" --replies \
	>"$WORK/gen-send-A-to-C.json" 2>/dev/null </dev/null &
GEN_PIDS="$GEN_PIDS $!"

rpa_log "live statistics (Ctrl-C to stop)"
"$RPA_PYTHON" "$RPA_ROOT/scripts/labstats.py" --cli "$RPA_CLI" --socket "$SOCK" \
	--duration "$duration"
sleep 1.5 # the generators' last replies
rpa_log "neighbours learnt by ARP:"
cli dataplane neigh
