#!/usr/bin/env bash
# Starts virtlogd and libvirtd by hand on a machine without systemd (CI, development
# containers), configured as ../shared/LIBVIRT-ON-THIS-MACHINE.md describes. Idempotent.
set -euo pipefail
mkdir -p /var/log/libvirt /var/run/libvirt
id libvirt-qemu >/dev/null 2>&1 || useradd -r -U libvirt-qemu
if ! grep -q '^# vac-test settings' /etc/libvirt/qemu.conf 2>/dev/null; then
  printf '# vac-test settings\nuser = "root"\ngroup = "root"\ndynamic_ownership = 0\nremember_owner = 0\n' \
    >>/etc/libvirt/qemu.conf
fi
pgrep -x virtlogd >/dev/null || virtlogd -d -p /var/run/virtlogd.pid
pgrep -x libvirtd >/dev/null || libvirtd -d -p /var/run/libvirtd.pid
for _ in $(seq 1 50); do
  virsh -c qemu:///system version >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "libvirt-up: libvirtd did not answer" >&2
exit 1
