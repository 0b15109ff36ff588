#!/usr/bin/env bash
# Undoes scripts/libvirt-up.sh and the tests: destroys the domains the test factories left
# (names ending in .vac-test.example, and only those: other domains on the host are not ours),
# then stops libvirtd and virtlogd only if libvirt-up.sh started them (its marker and pid file
# under $VAC_LIBVIRT_STATE_DIR), by that process id, checked to still be that daemon.
# Idempotent.
set -uo pipefail
state=${VAC_LIBVIRT_STATE_DIR:-/var/run/vac-test-libvirt}
if virsh -c qemu:///system version >/dev/null 2>&1; then
  for d in $(virsh -c qemu:///system list --name 2>/dev/null); do
    case "$d" in
    *.vac-test.example) virsh -c qemu:///system destroy "$d" >/dev/null 2>&1 || true ;;
    *) ;;
    esac
  done
fi
for name in libvirtd virtlogd; do
  [ -e "$state/started-$name" ] || {
    echo "libvirt-down: $name was not started by libvirt-up.sh: left running" >&2
    continue
  }
  pid=$(cat "$state/$name.pid" 2>/dev/null || true)
  if [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "libvirt-down: stopped $name (pid $pid)" >&2
  fi
  rm -f "$state/started-$name" "$state/$name.pid"
done
exit 0
