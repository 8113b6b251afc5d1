# Shared by the scripts in this directory (sourced, not run): repository paths and helpers.
# shellcheck shell=sh disable=SC2034 # the variables are used by the scripts sourcing this

# shellcheck disable=SC1007 # CDPATH emptied for this one cd
RPA_ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
# BUILD_DIR may be overridden (e.g. a private build-<name> while developing).
RPA_BUILD=${BUILD_DIR:-$RPA_ROOT/build}
case $RPA_BUILD in /*) ;; *) RPA_BUILD=$RPA_ROOT/$RPA_BUILD ;; esac
RPA_DATAPLANE=$RPA_BUILD/dataplane/rtpanchor-dataplane
RPA_CLI=$RPA_BUILD/tools/rtpanchor
RPA_UDPGEN=$RPA_BUILD/bench/rtpanchor-udpgen
# Debian's interpreter: python3-pytest installs there, whatever else is first in PATH.
RPA_PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$RPA_PYTHON" ] || RPA_PYTHON=python3

rpa_log() { printf '==> %s\n' "$*" >&2; }
rpa_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

rpa_need_root() {
	[ "$(id -u)" -eq 0 ] && return 0
	printf 'error: %s needs root (network namespaces, DPDK, apt-get): sudo %s\n' \
		"$(basename -- "$0")" "$0" >&2
	exit 2
}
