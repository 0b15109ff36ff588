#!/usr/bin/env bash
# Stops what scripts/libvirt-up.sh started (libvirtd, then virtlogd), by process id, after
# destroying any domain still running. Idempotent.
set -uo pipefail
if virsh -c qemu:///system version >/dev/null 2>&1; then
  for d in $(virsh -c qemu:///system list --name 2>/dev/null); do
    virsh -c qemu:///system destroy "$d" >/dev/null 2>&1 || true
  done
fi
for name in libvirtd virtlogd; do
  pid=$(cat "/var/run/$name.pid" 2>/dev/null || pgrep -x "$name" || true)
  [ -n "$pid" ] && kill $pid 2>/dev/null
  for _ in $(seq 1 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
done
exit 0
