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
for name in virtlogd libvirtd; do
  if [ -e "$state/started-$name" ]; then
    continue # started by an earlier run of this script
  elif running=$(pgrep -x "$name"); then
    echo "libvirt-up: $name is already running (pid $(echo $running)), not started by this script: using it, and libvirt-down.sh will leave it running" >&2
  else
    "$name" -d -p "$state/$name.pid"
    : >"$state/started-$name"
    echo "libvirt-up: started $name" >&2
  fi
done
for _ in $(seq 1 50); do
  virsh -c qemu:///system version >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "libvirt-up: libvirtd did not answer" >&2
exit 1
