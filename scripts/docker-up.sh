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
if [ -e "$state/started-dockerd" ]; then
  : # started by an earlier run of this script
elif running=$(pgrep -x dockerd); then
  echo "docker-up: dockerd is already running (pid $(echo $running)), not started by this script: using it, and docker-down.sh will leave it running" >&2
else
  # dockerd runs its own containerd; the log is kept beside the pid file.
  setsid dockerd --pidfile "$state/dockerd.pid" >"$state/dockerd.log" 2>&1 </dev/null &
  : >"$state/started-dockerd"
  echo "docker-up: started dockerd (log $state/dockerd.log)" >&2
fi
for _ in $(seq 1 100); do
  "$docker" version >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "docker-up: dockerd did not answer; the end of its log:" >&2
tail -20 "$state/dockerd.log" >&2 || true
exit 1
