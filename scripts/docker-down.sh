#!/usr/bin/env bash
# Undoes scripts/docker-up.sh and the tests: removes the containers the test factories left
# (names ending in .e2e.test, and only those: other containers on the host are not ours), in
# Docker and in Podman, then stops dockerd only if docker-up.sh started it (its marker and pid
# file under $VAC_DOCKER_STATE_DIR), by that process id, checked to still be dockerd. Idempotent.
set -uo pipefail
state=${VAC_DOCKER_STATE_DIR:-/var/run/vac-test-docker}
for client in /usr/bin/docker /usr/bin/podman; do
  [ -x "$client" ] || continue
  for c in $("$client" ps --all --format '{{.Names}}' 2>/dev/null); do
    case "$c" in
    *.e2e.test) "$client" rm --force "$c" >/dev/null 2>&1 || true ;;
    *) ;;
    esac
  done
done
[ -e "$state/started-dockerd" ] || {
  echo "docker-down: dockerd was not started by docker-up.sh: left running" >&2
  exit 0
}
pid=$(cat "$state/dockerd.pid" 2>/dev/null || true)
if [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "dockerd" ]; then
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  echo "docker-down: stopped dockerd (pid $pid)" >&2
fi
rm -f "$state/started-dockerd" "$state/dockerd.pid"
exit 0
