#!/bin/bash
# Makes the tiny test guest (scripts/build-test-guest.sh, in GUESTDIR) into a bootable ISO, as a
# CernVM root image is one: ISOLINUX from Debian's isolinux and syslinux-common packages loads the
# guest's kernel and initramfs with its command line. Cached in OUTDIR, keyed by the guest's
# kernel version and features.
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 OUTDIR GUESTDIR" >&2; exit 2; }
out=$1
guest=$2
key="$(cat "$guest/VERSION") $(cat "$guest/FEATURES") iso1"
cached() { [[ -f $out/tiny.iso && -f $out/.complete ]] && grep -qxF "$key" "$out/KEY" 2>/dev/null; }
cached && exit 0

mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
cached && exit 0
rm -f "$out/.complete"

tmp=$(mktemp -d /var/tmp/vac-test-guest-iso.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/deb" "$tmp/iso"
chmod 755 "$tmp" && chown _apt "$tmp/deb" 2>/dev/null || true # apt downloads as its _apt user
echo "build-test-guest-iso: downloading isolinux and syslinux-common" >&2
(cd "$tmp/deb" && apt-get download -q isolinux syslinux-common >&2)
for deb in "$tmp"/deb/*.deb; do dpkg -x "$deb" "$tmp/root"; done
cp "$tmp/root/usr/lib/ISOLINUX/isolinux.bin" "$tmp/root/usr/lib/syslinux/modules/bios/ldlinux.c32" "$tmp/iso/"
cp "$guest/vmlinuz" "$tmp/iso/vmlinuz"
cp "$guest/initrd.gz" "$tmp/iso/initrd.gz"
cat >"$tmp/iso/isolinux.cfg" <<'CFG'
DEFAULT tiny
PROMPT 0
TIMEOUT 0
LABEL tiny
  KERNEL /vmlinuz
  APPEND initrd=/initrd.gz console=ttyS0 panic=-1 quiet
CFG
genisoimage -quiet -o "$tmp/tiny.iso" -V TINYGUEST -b isolinux.bin -c boot.cat \
  -no-emul-boot -boot-load-size 4 -boot-info-table "$tmp/iso"
mv "$tmp/tiny.iso" "$out/tiny.iso"
echo "$key" >"$out/KEY"
touch "$out/.complete"
