#!/bin/bash
# The lab (README command 1): installs what is missing, builds, joins network namespaces
# with veth pairs, runs rtpanchor-dataplane on net_af_packet, a private redis-server and
# rtpanchor-control, sets calls up through Redis with the CLI's offer/answer (as a SIP
# proxy would), sends RTP both ways with rtpanchor-udpgen and prints live statistics;
# deletes the calls and cleans up on exit.
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
  --calls N      A<->B calls to set up, 1..1000 (default 4); one more call A<->C goes
                 through the router namespace (the dataplane's --gateway)
  --rate PPS     RTP packets per second A sends over all A<->B calls (default 2000);
                 B echoes every packet back through the relay
  --size BYTES   RTP payload bytes (default 160)
  --no-build     skip the dependency check and the build
Namespaces rpa-lab-{dp,a,b,r,c}. redis-server listens on a Unix socket only; it, the
dataplane's socket and every log go to a temporary directory that is printed at start
and removed at exit.
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
RPA_CONTROL=$RPA_BUILD/control/rtpanchor-control
for b in "$RPA_DATAPLANE" "$RPA_CONTROL" "$RPA_CLI" "$RPA_UDPGEN"; do
	[ -x "$b" ] || rpa_die "$b is missing: run scripts/build.sh"
done

NS_DP=rpa-lab-dp NS_A=rpa-lab-a NS_B=rpa-lab-b NS_R=rpa-lab-r NS_C=rpa-lab-c
ALL_NS="$NS_DP $NS_A $NS_B $NS_R $NS_C"
WORK=$(mktemp -d /tmp/rpa-lab.XXXXXX)
SOCK=$WORK/dataplane.sock
REDIS=$WORK/redis.sock
DP_PID=
REDIS_PID=
CTL_PID=
STATS_PID=
GEN_PIDS=
CALL_IDS=

# stop_pid PID NAME: SIGTERM, up to 10 s, then SIGKILL.
stop_pid() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1"
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	rpa_log "$2 exited $?"
}

# The Redis commands (offer, answer...) find Redis in $RTPANCHOR_REDIS, set once it runs.
cli() { "$RPA_CLI" --socket "$SOCK" "$@"; }
dp_streams() { cli --json dataplane stats | "$RPA_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["streams"])'; }

cleanup() {
	trap - EXIT INT TERM
	set +e
	[ -n "$STATS_PID" ] && kill -TERM "$STATS_PID" 2>/dev/null && wait "$STATS_PID" 2>/dev/null
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
	if [ -n "$CALL_IDS" ] && [ -n "$CTL_PID" ] && kill -0 "$CTL_PID" 2>/dev/null; then
		n=0
		for id in $CALL_IDS; do
			cli delete --call-id "$id" --from-tag "A-$id" >/dev/null && n=$((n + 1))
		done
		rpa_log "deleted $n call(s) through Redis; dataplane streams left: $(dp_streams)"
	fi
	stop_pid "$CTL_PID" rtpanchor-control
	stop_pid "$DP_PID" dataplane
	stop_pid "$REDIS_PID" redis-server
	for ns in $ALL_NS; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$WORK"
	rpa_log "lab cleaned up"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Only for foreground commands: a background job must be `ip netns exec` itself so that $!
# is the program's pid (ip execs it) and not a subshell's. The daemons run under setsid
# (which execs too: a background job is no group leader) so that a terminal's Ctrl-C
# reaches the script, the statistics and the generators only, and the cleanup can still
# delete the calls through control before stopping everything in order.
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
setsid ip netns exec $NS_DP "$RPA_DATAPLANE" -l 0,1 --no-pci --no-huge -m 512 --no-shconf \
	--vdev net_af_packet0,iface=dpa --vdev net_af_packet1,iface=dpb -- \
	--addr net_af_packet0=192.0.2.1/24 --addr net_af_packet1=198.51.100.1/24 \
	--gateway net_af_packet1=198.51.100.254 --socket "$SOCK" --idle-backoff --max-streams 65536 \
	>"$WORK/dataplane.log" 2>&1 </dev/null &
DP_PID=$!
for i in $(seq 150); do
	kill -0 "$DP_PID" 2>/dev/null || { tail -30 "$WORK/dataplane.log" >&2; rpa_die "dataplane exited"; }
	[ -S "$SOCK" ] && cli dataplane hello >/dev/null 2>&1 && break
	[ "$i" -eq 150 ] && { tail -30 "$WORK/dataplane.log" >&2; rpa_die "dataplane did not answer in 30 s"; }
	sleep 0.2
done
cli dataplane hello

export RTPANCHOR_REDIS=$REDIS
rpa_log "starting redis-server (socket $REDIS) and rtpanchor-control (log $WORK/control.log)"
setsid redis-server --port 0 --unixsocket "$REDIS" --unixsocketperm 700 --save "" \
	--appendonly no --dir "$WORK" --daemonize no >"$WORK/redis.log" 2>&1 </dev/null &
REDIS_PID=$!
setsid "$RPA_CONTROL" --redis "$REDIS" --node lab --dataplane-socket "$SOCK" \
	--interface a=192.0.2.1 --interface b=198.51.100.1 --metrics-listen off \
	>"$WORK/control.log" 2>&1 </dev/null &
CTL_PID=$!
for i in $(seq 100); do
	kill -0 "$CTL_PID" 2>/dev/null || { tail -30 "$WORK/control.log" >&2; rpa_die "rtpanchor-control exited"; }
	cli --timeout 500ms ping >/dev/null 2>&1 && break
	[ "$i" -eq 100 ] && { tail -30 "$WORK/control.log" >&2; rpa_die "rtpanchor-control did not answer ping"; }
	sleep 0.2
done

# sdp ADDR PORT: a plain PCMU offer/answer.
sdp() {
	printf 'v=0\r\no=lab 1 1 IN IP4 %s\r\ns=rtpanchor lab\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %s RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n' "$1" "$1" "$2"
}
# sdp_srtp ADDR PORT KEY: an SRTP offer (RTP/SAVP, SDES AES_CM_128_HMAC_SHA1_80 with the
# base64 key||salt KEY).
sdp_srtp() {
	printf 'v=0\r\no=lab 1 1 IN IP4 %s\r\ns=rtpanchor lab\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %s RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:%s\r\na=sendrecv\r\n' "$1" "$1" "$2" "$3"
}
# call ID A_PORT PEER PEER_PORT [SRTP_KEY]: offer from A (192.0.2.10:A_PORT, interface a)
# and answer from PEER:PEER_PORT (interface b), as a proxy sends them; prints the relay
# ports "A_SIDE B_SIDE" read from the rewritten SDPs. With SRTP_KEY A offers SRTP and B's
# leg stays plain (transport-protocol=RTP/AVP); the answer to A is kept in
# $WORK/answer-ID.sdp (it carries the relay's key for A).
call() {
	if [ $# -ge 5 ]; then
		offered=$(sdp_srtp 192.0.2.10 "$2" "$5" | cli offer --call-id "$1" --from-tag "A-$1" \
			--sdp - --flags "direction=a,b transport-protocol=RTP/AVP") || return 1
	else
		offered=$(sdp 192.0.2.10 "$2" | cli offer --call-id "$1" --from-tag "A-$1" --sdp - \
			--flags "direction=a,b") || return 1
	fi
	answered=$(sdp "$3" "$4" | cli answer --call-id "$1" --from-tag "A-$1" --to-tag "B-$1" \
		--sdp -) || return 1
	pb=$(printf '%s\n' "$offered" | awk '$1 == "m=audio" { print $2; exit }')
	pa=$(printf '%s\n' "$answered" | awk '$1 == "m=audio" { print $2; exit }')
	if ! printf '%s\n' "$offered" | grep -q '^c=IN IP4 198\.51\.100\.1' ||
		! printf '%s\n' "$answered" | grep -q '^c=IN IP4 192\.0\.2\.1'; then
		printf 'unexpected SDP from rtpanchor-control:\n%s\n%s\n' "$offered" "$answered" >&2
		return 1
	fi
	printf '%s\n' "$answered" >"$WORK/answer-$1.sdp"
	echo "$pa $pb"
}

# Call i: A (192.0.2.10:21000+2i) offers, B (198.51.100.10:20002+2i) answers; the relay
# ports come from rtpanchor-control. A's address is learnt by latching (as behind a NAT).
rpa_log "setting up $calls A<->B calls and one A<->C call through Redis (rtpanchor offer/answer)"
RELAY_A=
for i in $(seq 0 $((calls - 1))); do
	CALL_IDS="$CALL_IDS lab-$i"
	ports=$(call "lab-$i" $((21000 + 2 * i)) 198.51.100.10 $((20002 + 2 * i))) ||
		rpa_die "call lab-$i could not be set up"
	RELAY_A="$RELAY_A ${ports% *}"
done
CALL_IDS="$CALL_IDS lab-c"
ports=$(call lab-c 23000 203.0.113.10 24002) || rpa_die "call lab-c could not be set up"
RELAY_C=${ports% *}
# An SRTP call: A encrypts with a key of its own, the relay decrypts towards B (plain) and
# encrypts B's echo towards A with the key it answered A with.
rpa_log "setting up one SRTP call (A: SDES AES_CM_128_HMAC_SHA1_80) <-> B (plain RTP)"
CALL_IDS="$CALL_IDS lab-srtp"
SRTP_KEY_A=$(head -c 30 /dev/urandom | base64)
ports=$(call lab-srtp 25000 198.51.100.10 26002 "$SRTP_KEY_A") ||
	rpa_die "call lab-srtp could not be set up"
RELAY_SRTP=${ports% *}
SRTP_KEY_RELAY=$(awk '$1 ~ /^a=crypto:/ && $2 == "AES_CM_128_HMAC_SHA1_80" { sub(/^inline:/, "", $3); print $3; exit }' \
	"$WORK/answer-lab-srtp.sdp" | tr -d '\r')
[ -n "$SRTP_KEY_RELAY" ] || rpa_die "the answer to A carries no AES_CM_128_HMAC_SHA1_80 key"
cli list | head -8
cli dataplane list | head -12

gen_secs=$duration
# Until Ctrl-C: a day, less the echoes' extra seconds (udpgen takes at most 86400).
[ "$gen_secs" -eq 0 ] && gen_secs=86000
rpa_log "RTP: A -> relay -> B and back (echo), $rate pps over $calls calls; A -> C at 50 pps; SRTP A <-> plain B at 50 pps"
ip netns exec $NS_B "$RPA_UDPGEN" echo --bind 198.51.100.10:20002 --streams "$calls" --port-step 2 \
	--duration $((gen_secs + 3)) >"$WORK/gen-echo-B.json" 2>/dev/null </dev/null &
GEN_PIDS="$GEN_PIDS $!"
ip netns exec $NS_C "$RPA_UDPGEN" echo --bind 203.0.113.10:24002 --duration $((gen_secs + 3)) \
	>"$WORK/gen-echo-C.json" 2>/dev/null </dev/null &
GEN_PIDS="$GEN_PIDS $!"
ip netns exec $NS_B "$RPA_UDPGEN" echo --bind 198.51.100.10:26002 --duration $((gen_secs + 3)) \
	>"$WORK/gen-echo-B-plain-of-srtp.json" 2>/dev/null </dev/null &
GEN_PIDS="$GEN_PIDS $!"
sleep 0.3
# One sender per run of calls whose A-side relay ports follow each other (+2, as a fresh
# control hands them out), so that stream k of a sender goes from 21000+2i to its call's
# relay port; the rate is shared in proportion.
run_start=0 run_len=0 run_first='' prev=''
i=0
for p in $RELAY_A end; do
	if [ "$p" != end ] && [ -n "$prev" ] && [ "$p" -eq $((prev + 2)) ]; then
		run_len=$((run_len + 1))
	else
		if [ "$run_len" -gt 0 ]; then
			r=$((rate * run_len / calls))
			[ "$r" -gt 0 ] || r=1
			ip netns exec $NS_A "$RPA_UDPGEN" send --dst 192.0.2.1:"$run_first" \
				--bind 192.0.2.10:$((21000 + 2 * run_start)) --streams "$run_len" --port-step 2 \
				--rate "$r" --size "$size" --duration "$gen_secs" --replies \
				>"$WORK/gen-send-A-to-B-$run_start.json" 2>/dev/null </dev/null &
			GEN_PIDS="$GEN_PIDS $!"
		fi
		run_start=$i run_len=1 run_first=$p
	fi
	prev=$p
	i=$((i + 1))
done
ip netns exec $NS_A "$RPA_UDPGEN" send --dst 192.0.2.1:"$RELAY_C" --bind 192.0.2.10:23000 --rate 50 \
	--size "$size" --duration "$gen_secs" --replies \
	>"$WORK/gen-send-A-to-C.json" 2>/dev/null </dev/null &
GEN_PIDS="$GEN_PIDS $!"
# libsrtp2 (NSS) at both ends of A's leg: slow per packet, so a modest rate.
ip netns exec $NS_A "$RPA_UDPGEN" send --dst 192.0.2.1:"$RELAY_SRTP" --bind 192.0.2.10:25000 --rate 50 \
	--size "$size" --duration "$gen_secs" --replies \
	--srtp-tx "AES_CM_128_HMAC_SHA1_80:$SRTP_KEY_A" --srtp-rx "AES_CM_128_HMAC_SHA1_80:$SRTP_KEY_RELAY" \
	>"$WORK/gen-send-A-srtp-to-B.json" 2>/dev/null </dev/null &
GEN_PIDS="$GEN_PIDS $!"

rpa_log "live statistics (Ctrl-C to stop)"
# In the background so that a signal to the script (Ctrl-C, or SIGTERM from `timeout`)
# interrupts the wait at once and the cleanup stops the statistics too.
"$RPA_PYTHON" "$RPA_ROOT/scripts/labstats.py" --cli "$RPA_CLI" --socket "$SOCK" \
	--duration "$duration" </dev/null &
STATS_PID=$!
wait "$STATS_PID"
STATS_PID=
sleep 1.5 # the generators' last replies
rpa_log "neighbours learnt by ARP:"
cli dataplane neigh
