# tests/container/lib.sh - podman as this project runs it offline, for
# tests/container and bench/container.sh; sourced after tests/e2e/lib.sh
# (for $T and free_port).
#
# Podman's settings are deploy/container/containers.conf (runc, cgroupfs, no
# default ulimits) and every container shares the host's network
# (--network host: no image registry, no CNI set-up needed), so each binds
# 127.0.0.1 on a free port through PORT and SCOREPOINT_BIND.
#
#   ctr_start NAME IMAGE [RUN-OPTION...]
#       runs IMAGE detached as container NAME on a free loopback port
#       (WORKERS=2), waits until GET /health answers 200 (at most 60 s a
#       try, 4 tries); sets URL, READY_MS (podman run to that first 200)
#       and RUN_MS (podman run -d to its return: the container made and its
#       first process started).
#       Non-zero if it never answered (its log then in $T/NAME.log).
#       CTR_PROBE (default /health) is the path asked instead, with curl's
#       options in CTR_PROBE_OPTS (unquoted: no spaces inside one); CTR_POLL
#       the seconds between two tries (0.05).
#   ctr_wait NAME        its exit status once it stops (at most 30 s; "none"
#                        if it has not stopped by then)
#   ctr_rm NAME          removes it; every container ctr_start made is
#                        removed on exit too
#   ctr_pid NAME         the host PID of its first process
: "${CONTAINERS_CONF:=$PWD/deploy/container/containers.conf}"
export CONTAINERS_CONF
CTR_NAMES=
ctr_cleanup() {
	for c in $CTR_NAMES; do podman rm -f -t 0 "$c" >/dev/null 2>&1; done
	rm -rf "$T"
}
trap ctr_cleanup EXIT
trap 'exit 1' HUP INT TERM

ctr_rm() {
	podman rm -f -t 0 "$1" >/dev/null 2>&1 || true
}

ctr_start() {
	cs_name=$1 cs_image=$2
	shift 2
	CTR_NAMES="$CTR_NAMES $cs_name"
	for cs_try in 1 2 3 4; do
		ctr_rm "$cs_name"
		cs_port=$(free_port)
		URL=http://127.0.0.1:$cs_port
		cs_t0=$(date +%s%N)
		podman run -d --name "$cs_name" --network host -e PORT="$cs_port" -e SCOREPOINT_BIND=127.0.0.1 \
			-e WORKERS=2 "$@" "$cs_image" >"$T/$cs_name.id" 2>&1 ||
			{ cat "$T/$cs_name.id" >"$T/$cs_name.log"; return 1; }
		RUN_MS=$((($(date +%s%N) - cs_t0) / 1000000))
		cs_end=$(($(date +%s) + 60)) cs_seen=$(date +%s)
		while [ "$(date +%s)" -lt $cs_end ]; do
			if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 ${CTR_PROBE_OPTS:-} \
				"$URL${CTR_PROBE:-/health}")" = 200 ]; then
				READY_MS=$((($(date +%s%N) - cs_t0) / 1000000))
				return 0
			fi
			# Stopped (its port was taken, say): try another port.  Asked
			# once a second, podman being slow to answer.
			if [ "$(date +%s)" != "$cs_seen" ]; then
				cs_seen=$(date +%s)
				[ "$(podman inspect -f '{{.State.Running}}' "$cs_name" 2>/dev/null)" = true ] || break
			fi
			sleep "${CTR_POLL:-0.05}"
		done
		podman logs "$cs_name" >"$T/$cs_name.log" 2>&1
	done
	return 1
}

ctr_wait() {
	timeout 30 podman wait "$1" 2>/dev/null || echo none
}

ctr_pid() {
	podman inspect -f '{{.State.Pid}}' "$1"
}
