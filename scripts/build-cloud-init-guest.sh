#!/usr/bin/env bash
# Builds a guest that boots Debian's real cloud-init, for bench/cloud-init-guest-boot.ts (a manual
# check, never part of the test run: the build takes minutes and the boot a minute or more):
#   OUTDIR/root/      a Debian bookworm minbase root (debootstrap) with python3, ifupdown and
#                     Debian's cloud-init .deb (the one apt has, bookworm-updates/security
#                     included), kept between runs
#   OUTDIR/initrd.gz  that root with the tiny test guest's virtio/9p modules and busybox and
#                     scripts/cloud-init-guest-init.sh as /init, packed as an initramfs for the
#                     tiny test guest's kernel (scripts/build-test-guest.sh, in TINYDIR)
#   OUTDIR/VERSIONS   cloud-init's and python3's package versions
# Cached: the root is made once; the initramfs again when the init script changes.
# Usage: build-cloud-init-guest.sh OUTDIR TINYDIR. Needs root (debootstrap, chroot), debootstrap,
# cpio, gzip and a Debian mirror (VAC_DEBIAN_MIRROR, default deb.debian.org).
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 OUTDIR TINYDIR" >&2; exit 2; }
out=$1
tiny=$2
init=$(dirname "$0")/cloud-init-guest-init.sh
[[ -f $tiny/initrd.gz ]] || { echo "build-cloud-init-guest: no $tiny/initrd.gz (run build-test-guest.sh)" >&2; exit 1; }
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
root=$out/root
mirror=${VAC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# cloud-init's dependencies (its Depends line in 22.4), so that its .deb installs without apt.
deps=python3,python3-configobj,python3-jinja2,python3-jsonpatch,python3-jsonschema,python3-netifaces
deps+=,python3-oauthlib,python3-requests,python3-serial,python3-yaml,isc-dhcp-client,iproute2
deps+=,procps,lsb-release,locales,fdisk,gdisk,eject
# debootstrap resolves no virtual packages: python3-cryptography's python3-cffi-backend-api-min.
deps+=,python3-cffi-backend
# cloud-init renders the network it read for ifupdown (its eni renderer), as on a Debian cloud
# image; the init raises it with ifup between the two stages.
deps+=,ifupdown
# sudo, as cloud images have it: cloud-init's OpenNebula datasource, which ds-identify lists for
# the context ISO (label CONTEXT), reads context.sh through `sudo -u nobody`.
deps+=,sudo
# ssh-keygen, for the host keys cloud-init makes (cc_ssh), as on a cloud image.
deps+=,openssh-client
# The root is made again when this list changes; the initramfs when the root or the init does.
rooted() { [[ -f $root/.vac-root-complete && $(cat "$root/.vac-root-complete") == "$deps" ]]; }
rooted && [[ -f $out/.complete ]] && cmp -s "$init" "$root/init" && exit 0
rm -f "$out/.complete"

if ! rooted; then
  rm -rf "$root"
  echo "build-cloud-init-guest: debootstrap bookworm minbase into $root" >&2
  debootstrap --variant=minbase --include="$deps" bookworm "$root" "$mirror" >&2 || {
    tail -n 30 "$root/debootstrap/debootstrap.log" >&2
    exit 1
  }
  # The same cloud-init as the host's apt has (the point release with its fixes), installed by
  # dpkg in the root, started by nothing.
  deb=$(mktemp -d /var/tmp/vac-cloud-init-deb.XXXXXX)
  chmod 755 "$deb"
  chown _apt "$deb" 2>/dev/null || true
  (cd "$deb" && apt-get download -q cloud-init >&2)
  cp "$deb"/cloud-init_*.deb "$root/tmp/"
  rm -rf "$deb"
  chroot "$root" sh -c 'dpkg -i /tmp/cloud-init_*.deb && rm /tmp/cloud-init_*.deb' >&2
  # What the initramfs does not need (it is held in the guest's memory).
  rm -rf "$root"/usr/share/{doc,man,info} "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/*
  find "$root" -name __pycache__ -prune -exec rm -rf {} +
  tmp=$(mktemp -d /var/tmp/vac-cloud-init-tiny.XXXXXX)
  (cd "$tmp" && gzip -dc "$tiny/initrd.gz" | cpio -idm --quiet)
  mkdir -p "$root/vac/modules" "$root"/etc/{machinefeatures,jobfeatures,machineoutputs}
  cp "$tmp"/lib/modules/* "$root/vac/modules/"
  cp "$tmp/bin/busybox" "$root/vac/busybox"
  rm -rf "$tmp"
  echo "$deps" >"$root/.vac-root-complete"
fi
chroot "$root" dpkg-query -W cloud-init python3 ifupdown >"$out/VERSIONS"
install -m 755 "$init" "$root/init"

echo "build-cloud-init-guest: packing $(du -sh "$root" | cut -f1) into $out/initrd.gz" >&2
(cd "$root" && find . -xdev ! -name .vac-root-complete | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -1n) >"$out/initrd.gz.tmp"
mv "$out/initrd.gz.tmp" "$out/initrd.gz"
touch "$out/.complete"
echo "build-cloud-init-guest: $out ready ($(du -h "$out/initrd.gz" | cut -f1))" >&2
