#!/bin/sh
# Recreates a systemd unit's sandboxing with the kernel's own tools, for unit-sandbox.test.ts:
# run as `unshare --mount --propagation slave -- sh unit-sandbox.sh OP... -- COMMAND...`, it applies
# each OP to its new mount namespace, then execs COMMAND (same pid, as systemd execs ExecStart).
#   ro:PATH      PATH and every mount under it read-only (bound to itself first when PATH is no
#                mount point of its own); a PATH that does not exist is skipped, as systemd does
#   rw:PATH      PATH and every mount under it writable again (a hole in an ro: above it)
#   tmpfs:PATH   a fresh, empty tmpfs at PATH (mode 1777), as PrivateTmp= gives /tmp and /var/tmp
#   empty:PATH   an empty read-only directory over PATH (systemd's "inaccessible" mounts)
#   keep:HOLD:PATH  PATH stays where it is whatever the later operations cover (a checkout under
#                /tmp, which PrivateTmp= would hide; an installed vacd lives under /usr): bound
#                to the directory HOLD now, and bound back at PATH after the last operation
# The operations' arguments are never read by a shell: each is one word of "$@".
set -eu
keeps=""
mounts_under() {
  # Mount points at or under $1, from mountinfo (field 5), octal escapes as the kernel writes them.
  awk -v p="$1" '{ m = $5; gsub(/\\040/, " ", m); if (m == p || index(m, p "/") == 1) print m }' /proc/self/mountinfo
}
is_mount_point() {
  awk -v p="$1" '$5 == p { found = 1 } END { exit !found }' /proc/self/mountinfo
}
remount_all() {
  mounts_under "$1" | while IFS= read -r m; do
    mount -o "remount,bind,$2" "$m" 2>/dev/null || echo "unit-sandbox: cannot remount $m $2" >&2
  done
}
while [ $# -gt 0 ]; do
  op=$1
  shift
  [ "$op" = -- ] && break
  path=${op#*:}
  case "$op" in
    ro:*)
      [ -e "$path" ] || continue
      is_mount_point "$path" || mount --bind "$path" "$path"
      remount_all "$path" ro ;;
    rw:*)
      [ -e "$path" ] || continue
      remount_all "$path" rw ;;
    tmpfs:*)
      mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$path" ;;
    keep:*)
      hold=${path%%:*}
      kept=${path#*:}
      mkdir -p "$hold"
      mount --bind "$kept" "$hold"
      keeps="$keeps$hold:$kept
" ;;
    empty:*)
      [ -e "$path" ] || continue
      mount -t tmpfs -o mode=0755,ro,nosuid,nodev,noexec tmpfs "$path" ;;
    *)
      echo "unit-sandbox: unknown operation $op" >&2
      exit 64 ;;
  esac
done
printf '%s' "$keeps" | while IFS= read -r k; do
  [ -n "$k" ] || continue
  mkdir -p "${k#*:}"
  mount --bind "${k%%:*}" "${k#*:}"
done
exec "$@"
