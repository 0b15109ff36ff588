#!/usr/bin/env bash
# Starts virtlogd and libvirtd by hand on a machine without systemd (CI, development
# containers), configured as docs/testing.md describes. Idempotent.
#
# A daemon already running is someone else's: it is used, said so on stderr, and not recorded,
# so scripts/libvirt-down.sh leaves it alone. A daemon this script starts is recorded (its pid
# file and a marker under $VAC_LIBVIRT_STATE_DIR), and only those are stopped by libvirt-down.sh.
set -euo pipefail
state=${VAC_LIBVIRT_STATE_DIR:-/var/run/vac-test-libvirt}
qemu_conf=${VAC_QEMU_CONF:-/etc/libvirt/qemu.conf}
mkdir -p /var/log/libvirt /var/run/libvirt "$state"
id libvirt-qemu >/dev/null 2>&1 || useradd -r -U libvirt-qemu
if ! grep -q '^# vac-test settings' "$qemu_conf" 2>/dev/null; then
  printf '# vac-test settings\nuser = "root"\ngroup = "root"\ndynamic_ownership = 0\nremember_owner = 0\n' \
    >>"$qemu_conf"
fi
# Is the daemon whose pid file this script wrote still that daemon?
ours_alive() {
  local pid
  pid=$(cat "$state/$1.pid" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ]
}
for name in virtlogd libvirtd; do
  # A marker whose daemon is gone is stale: /run is kept across boots and machine images here,
  # and CI once found the marker of a daemon from an earlier boot, started nothing, and waited
  # for a libvirtd that did not exist.
  if [ -e "$state/started-$name" ] && ! ours_alive "$name"; then
    echo "libvirt-up: $name recorded as started here is not running (a stale marker): starting it" >&2
    rm -f "$state/started-$name" "$state/$name.pid"
  fi
  if [ -e "$state/started-$name" ]; then
    continue # started by an earlier run of this script, and still running
  elif running=$(pgrep -x "$name"); then
    echo "libvirt-up: $name is already running (pid $(echo $running)), not started by this script: using it, and libvirt-down.sh will leave it running" >&2
  else
    "$name" -d -p "$state/$name.pid"
    : >"$state/started-$name"
    echo "libvirt-up: started $name" >&2
  fi
done
# A cold libvirtd probes QEMU's capabilities before it answers: 8 s on a quiet machine here, and
# more than 10 s on a CI machine just after apt-get (CI once failed here on a 10 s wait). It is
# given up to $VAC_LIBVIRT_START_SECONDS (180 s), and a daemon that died is reported at once.
limit=${VAC_LIBVIRT_START_SECONDS:-180}
start=$SECONDS
while :; do
  if error=$(virsh -c qemu:///system version 2>&1 >/dev/null); then
    echo "libvirt-up: libvirtd answered after $((SECONDS - start)) s" >&2
    exit 0
  fi
  if [ -e "$state/started-libvirtd" ] && [ -s "$state/libvirtd.pid" ] && ! ours_alive libvirtd; then
    echo "libvirt-up: libvirtd (pid $(cat "$state/libvirtd.pid")) exited before it answered" >&2
    break
  fi
  if [ $((SECONDS - start)) -ge "$limit" ]; then
    echo "libvirt-up: libvirtd did not answer in $limit s" >&2
    break
  fi
  sleep 0.5
done
echo "libvirt-up: virsh said: $error" >&2
echo "libvirt-up: the end of /var/log/libvirt/libvirtd.log:" >&2
tail -20 /var/log/libvirt/libvirtd.log >&2 || true
exit 1
