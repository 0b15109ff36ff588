#!/usr/bin/env bash
# Starts dockerd by hand on a machine without systemd (CI, development containers), for the
# container machine tests (test/docker-machine-end-to-end.test.ts). Idempotent. Podman needs no
# daemon.
#
# A dockerd already running (or a socket that answers) is someone else's: it is used, said so on
# stderr, and not recorded, so scripts/docker-down.sh leaves it alone. A dockerd this script starts
# is recorded (its pid file and a marker under $VAC_DOCKER_STATE_DIR) and only that one is stopped.
set -euo pipefail
state=${VAC_DOCKER_STATE_DIR:-/var/run/vac-test-docker}
docker=${VAC_DOCKER_COMMAND:-/usr/bin/docker}
mkdir -p "$state"
# A marker whose dockerd is gone is stale (/run is kept across boots and machine images here):
# it is dropped and dockerd started.
pid=$(cat "$state/dockerd.pid" 2>/dev/null || true)
if [ -e "$state/started-dockerd" ] && ! { [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; }; then
  echo "docker-up: dockerd recorded as started here is not running (a stale marker): starting it" >&2
  rm -f "$state/started-dockerd" "$state/dockerd.pid"
fi
if [ -e "$state/started-dockerd" ]; then
  : # started by an earlier run of this script, and still running
elif running=$(pgrep -x dockerd); then
  echo "docker-up: dockerd is already running (pid $(echo $running)), not started by this script: using it, and docker-down.sh will leave it running" >&2
else
  # dockerd runs its own containerd; the log is kept beside the pid file.
  setsid dockerd --pidfile "$state/dockerd.pid" >"$state/dockerd.log" 2>&1 </dev/null &
  : >"$state/started-dockerd"
  echo "docker-up: started dockerd (log $state/dockerd.log)" >&2
fi
# Given up to $VAC_DOCKER_START_SECONDS (120 s): a first start on a loaded CI machine sets up its
# storage and networks before it answers.
limit=${VAC_DOCKER_START_SECONDS:-120}
start=$SECONDS
until "$docker" version >/dev/null 2>&1; do
  if [ $((SECONDS - start)) -ge "$limit" ]; then
    echo "docker-up: dockerd did not answer in $limit s; the end of its log:" >&2
    tail -20 "$state/dockerd.log" >&2 || true
    exit 1
  fi
  sleep 0.5
done
echo "docker-up: dockerd answered after $((SECONDS - start)) s" >&2
exit 0
