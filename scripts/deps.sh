#!/bin/sh
# Installs the Debian 12 packages rtpanchor builds, tests and runs its lab with; runs
# `apt-get update` only when something is missing. Root only.
set -eu
. "$(dirname -- "$0")/lib.sh"

# libipsec-mb-dev and librte-crypto-ipsec-mb23 (the crypto_aesni_mb cryptodev the SRTP engine
# runs on) come with libdpdk-dev today; they are named so that a runtime-only install keeps
# them. libsrtp2-dev is the reference the SRTP tests cross-check against.
PACKAGES="meson ninja-build pkg-config gcc libc6-dev libdpdk-dev dpdk libcmocka-dev
libjansson-dev libsrtp2-dev libhiredis-dev libmicrohttpd-dev redis-server iproute2 ethtool python3
python3-pytest procps clang libclang-rt-14-dev libipsec-mb-dev librte-crypto-ipsec-mb23
kamailio kamailio-redis-modules kamailio-json-modules sip-tester"

missing=
for p in $PACKAGES; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
	rpa_log "dependencies: all present"
	exit 0
fi
rpa_need_root
rpa_log "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -q --no-install-recommends $missing
