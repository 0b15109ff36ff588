#!/usr/bin/env bash
# Builds a tiny Linux guest for vac's libvirt tests, from Debian packages only:
#   OUTDIR/vmlinuz    Debian's current amd64 kernel (linux-image-<ver>-amd64-unsigned, via apt-get download)
#   OUTDIR/initrd.gz  busybox-static, the virtio/iso9660/9p modules and an /init speaking the Vacuum contract
#   OUTDIR/vmlinux    optional: the same kernel uncompressed, an ELF that QEMU boots through its PVH
#                     entry, skipping the bzImage's decompression (about 6 s of a ~14 s boot under TCG)
#   OUTDIR/VERSION    the kernel version
#   OUTDIR/FEATURES   what this build of the guest can do ("net": virtio_net and udhcpc); a cache
#                     without a feature this script now builds is rebuilt
# Cached: exits at once when OUTDIR/.complete exists. Usage: build-test-guest.sh OUTDIR
# See docs/testing.md. Needs apt, dpkg, kmod (depmod, modprobe), cpio, gzip.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
features=net3
cached() { [[ -f $out/vmlinuz && -f $out/initrd.gz && -f $out/.complete ]] && grep -qx "$features" "$out/FEATURES" 2>/dev/null; }
cached && exit 0

mkdir -p "$out"
exec 9>"$out/.lock"
flock 9 # another process may be building the same cache
cached && exit 0
rm -f "$out/.complete"

modules=(virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk
  cdrom isofs netfs fscache 9pnet 9p 9pnet_virtio failover net_failover virtio_net)

tmp=$(mktemp -d /var/tmp/vac-test-guest-build.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/deb"
chmod 755 "$tmp" && chown _apt "$tmp/deb" 2>/dev/null || true # apt downloads as its _apt user

ver=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *|\{0,1\}Depends: linux-image-\(.*-amd64\)$/\1/p' | head -n 1)
[[ -n $ver ]] || { echo "build-test-guest: no linux-image-*-amd64 dependency of linux-image-amd64" >&2; exit 1; }
pkg=linux-image-$ver-unsigned
apt-cache show "$pkg" >/dev/null 2>&1 || pkg=linux-image-$ver
echo "build-test-guest: downloading $pkg" >&2
(cd "$tmp/deb" && apt-get download -q "$pkg" >&2)
dpkg -x "$tmp/deb/$pkg"_*.deb "$tmp/root"
kernel=$tmp/root/boot/vmlinuz-$ver
[[ -f $kernel ]] || { echo "build-test-guest: $pkg has no /boot/vmlinuz-$ver" >&2; exit 1; }

# Load order: what modprobe would insmod, dependencies first; builtins drop out.
depmod -b "$tmp/root" "$ver"
order=()
for m in "${modules[@]}"; do
  deps=$(modprobe -d "$tmp/root" -S "$ver" --show-depends "$m") # fails the build if $m is missing
  while read -r verb path _; do
    [[ $verb == insmod ]] || continue
    [[ " ${order[*]} " == *" $path "* ]] || order+=("$path")
  done <<<"$deps"
done

rd=$tmp/initramfs
mkdir -p "$rd"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,mnt/context,lib/modules,etc/machinefeatures,etc/jobfeatures,etc/machineoutputs,etc/udhcpc}
cp /bin/busybox "$rd/bin/busybox"
: >"$rd/lib/modules/load-order"
for path in "${order[@]}"; do
  name=$(basename "$path")
  case $name in
  *.ko.xz) xz -dc "$path" >"$rd/lib/modules/${name%.xz}" ;;
  *.ko.zst) zstd -qdc "$path" >"$rd/lib/modules/${name%.zst}" ;;
  *.ko.gz) gzip -dc "$path" >"$rd/lib/modules/${name%.gz}" ;;
  *) cp "$path" "$rd/lib/modules/$name" ;;
  esac
  echo "${name%.ko*}.ko" >>"$rd/lib/modules/load-order"
done
# busybox udhcpc's default script: sets the leased address, the route and nothing else.
cat >"$rd/etc/udhcpc/default.script" <<'DHCP'
#!/bin/sh
case "$1" in
deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
bound | renew)
  ip addr flush dev "$interface"
  ip addr add "$ip/${mask:-24}" dev "$interface"
  for r in $router; do ip route add default via "$r" dev "$interface"; done
  echo "udhcpc: $interface has $ip/${mask:-24}"
  ;;
esac
exit 0
DHCP
chmod 755 "$rd/etc/udhcpc/default.script"
cat >"$rd/init" <<'INIT'
#!/bin/busybox sh
# Tiny vac test guest: mounts the Vacuum contract's context ISO and 9p shares, runs user_data, powers off.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
exec </dev/console >/dev/console 2>&1

log() { echo "tiny guest: $*"; }
finish() {
  log "sync and power off"
  sync
  poweroff -f
}
fail() {
  log "FAILED: $*"
  if grep -q ' /etc/machineoutputs ' /proc/mounts; then
    echo "500 tiny guest: $*" >/etc/machineoutputs/shutdown_message
  fi
  finish
}
mount9p() { # TAG DIR OPTS
  if mount -t 9p -o "trans=virtio,version=9p2000.L,$3" "$1" "$2"; then
    log "mounted 9p $1 at $2 ($3)"
  else
    log "could not mount 9p $1 at $2"
  fi
}

log "booted kernel $(uname -r)"
while read -r ko; do
  insmod "/lib/modules/$ko" || log "insmod $ko failed"
done </lib/modules/load-order
log "loaded $(wc -l </lib/modules/load-order) modules"

# vac.net=dhcp on the kernel command line: get the slot's lease (the Vac 3 network contract).
if grep -q 'vac.net=dhcp' /proc/cmdline; then
  tries=0
  until [ -e /sys/class/net/eth0 ] || [ "$tries" -ge 50 ]; do
    sleep 0.1
    tries=$((tries + 1))
  done
  ip link set lo up
  ip link set eth0 up
  if timeout 30 udhcpc -i eth0 -q -n -t 10 -T 1 -s /etc/udhcpc/default.script; then
    log "network: $(ip -o -4 addr show dev eth0 | awk '{print $4}')"
  else
    log "no DHCP lease on eth0"
  fi
fi

mount9p machinefeatures /etc/machinefeatures ro
mount9p jobfeatures /etc/jobfeatures ro
mount9p joboutputs /etc/machineoutputs rw

tries=0
until [ -b /dev/vdb ] || [ "$tries" -ge 50 ]; do
  sleep 0.1
  tries=$((tries + 1))
done
[ -b /dev/vdb ] || fail "no context disk /dev/vdb"
mount -t iso9660 -o ro /dev/vdb /mnt/context || fail "cannot mount /dev/vdb as iso9660"
log "mounted context ISO at /mnt/context"
[ -f /mnt/context/user_data ] || fail "no user_data on the context ISO"

log "running user_data"
cd /
MACHINEFEATURES=/etc/machinefeatures JOBFEATURES=/etc/jobfeatures JOBOUTPUTS=/etc/machineoutputs \
  sh /mnt/context/user_data
status=$?
log "user_data exited with status $status"
if [ "$status" -ne 0 ] && [ ! -f /etc/machineoutputs/shutdown_message ]; then
  fail "user_data exited with status $status"
fi
finish
INIT
chmod 755 "$rd/init"

(cd "$rd" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9n) >"$out/initrd.gz.tmp"
cp "$kernel" "$out/vmlinuz.tmp"
# Uncompressed kernel: Debian's bzImage carries an xz payload; keep it only if it has a PVH entry note.
rm -f "$out/vmlinux"
xzat=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$kernel" | head -n 1 | cut -d: -f1 || true)
if [[ -n $xzat ]] && command -v readelf >/dev/null; then
  tail -c +$((xzat + 1)) "$kernel" | xz -dcq >"$out/vmlinux.tmp" 2>/dev/null || true # trailing data: ignore
  if readelf -n "$out/vmlinux.tmp" 2>/dev/null | grep -q 'Unknown note type: (0x00000012)'; then
    mv "$out/vmlinux.tmp" "$out/vmlinux"
  fi
  rm -f "$out/vmlinux.tmp"
fi
mv "$out/initrd.gz.tmp" "$out/initrd.gz"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "$ver" >"$out/VERSION"
echo "$features" >"$out/FEATURES"
touch "$out/.complete"
echo "build-test-guest: $out ready (kernel $ver, modules: ${#order[@]})" >&2
