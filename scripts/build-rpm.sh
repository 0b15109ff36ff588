#!/usr/bin/env bash
# Builds the vac RPM (rpm/vac.spec) from this checkout: `npm run rpm`.
#
# Stages Source0 in a scratch directory: the compiled JavaScript of @vac/core, @vac/vacd and
# @vac/vac (no tests, no type declarations, no source maps) with production node_modules only,
# installed by `npm ci --omit=dev --omit=optional --ignore-scripts` from the lock file. Without
# optional dependencies and install scripts nothing native is built (ssh2's optional
# cpu-features and its own sshcrypto binding; ssh2 then uses Node's crypto), so the package is
# noarch and needs no particular glibc. The build fails if a native module (*.node) slips in.
#
# Output: build/rpm/vac-VERSION-RELEASE.noarch.rpm (or $VAC_RPM_OUT/). Needs rpmbuild (EL's, or
# Debian's from `apt-get install rpm`). VAC_RPM_SKIP_BUILD=1 skips `npm run build`.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${VAC_RPM_OUT:-$repo/build/rpm}"
cd "$repo"

command -v rpmbuild >/dev/null || { echo "build-rpm: rpmbuild not found (EL: rpm-build; Debian: apt-get install rpm)" >&2; exit 69; }
version="$(node -p 'require("./package.json").version')"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "build-rpm: odd version '$version'" >&2; exit 65; }
grep -q "^Version: *${version}\$" rpm/vac.spec || { echo "build-rpm: rpm/vac.spec's Version is not $version" >&2; exit 65; }

if [[ "${VAC_RPM_SKIP_BUILD:-}" != 1 ]]; then npm run build --silent; fi

work="$(mktemp -d "${TMPDIR:-/tmp}/vac-rpm.XXXXXX")"
trap 'rm -rf "$work"' EXIT
src="$work/vac-$version"
lib="$src/lib/vac"
mkdir -p "$lib/packages"

echo "== staging the compiled code"
cp package.json package-lock.json "$lib/"
for p in core vacd vac testkit; do
  mkdir -p "$lib/packages/$p"
  cp "packages/$p/package.json" "$lib/packages/$p/"
done
for p in core vacd vac; do
  [[ -d "packages/$p/dist/src" ]] || { echo "build-rpm: packages/$p/dist/src missing: npm run build" >&2; exit 66; }
  cp -a "packages/$p/bin" "$lib/packages/$p/" 2>/dev/null || true
  mkdir -p "$lib/packages/$p/dist"
  (cd "packages/$p/dist" && find src -name '*.js' -print0 | cpio -0 -pdm --quiet "$lib/packages/$p/dist")
done

echo "== production node_modules"
# testkit is a workspace in the lock file: it is staged for npm ci's sake, then removed.
(cd "$lib" && npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
rm -rf "$lib/packages/testkit" "$lib/node_modules/@vac/testkit" "$lib/node_modules/.package-lock.json" "$lib/package-lock.json"
native="$(find "$lib" \( -name '*.node' -o -name '*.so' \) -print)"
if [[ -n "$native" ]]; then
  echo "build-rpm: native modules in a noarch package:" >&2
  echo "$native" >&2
  exit 70
fi
# Every workspace package resolves, and ssh2 loads without its native parts.
(cd "$lib/packages/vac" && node --input-type=module -e '
  await import("@vac/core"); await import("@vac/vacd"); await import("ssh2"); await import("yargs");
')

echo "== sources"
mkdir -p "$src/systemd/vacd.service.d" "$src/docs" "$src/etc/puppet"
cp systemd/vacd.service systemd/90-vac.conf "$src/systemd/"
cp systemd/vacd.service.d/containers.conf "$src/systemd/vacd.service.d/"
cp docs/vacd.8 docs/vac.1 docs/check-vacd.8 docs/vac.conf.5 docs/admin-guide.md docs/errors.md docs/accounting.md "$src/docs/"
cp etc/vac.conf.installed etc/vac.conf.example etc/vac-ssmsend.cron etc/vac-long-term-shares.cron etc/vac-ssmsend-prod.cfg "$src/etc/"
cp etc/puppet/vac.pp "$src/etc/puppet/"
mkdir -p "$work/SOURCES"
tar -czf "$work/SOURCES/vac-$version.tar.gz" -C "$work" --owner=0 --group=0 "vac-$version"

echo "== rpmbuild"
# Debian's brp-compress uses bash's `read -d` under /bin/sh (dash): run it with bash there.
brp_compress=()
if [[ "$(readlink -f /bin/sh)" != */bash ]]; then
  brp_compress=(--define "__brp_compress /bin/bash /usr/lib/rpm/brp-compress %{_prefix}")
fi
rpmbuild -bb --quiet \
  --define "_topdir $work/rpmbuild" \
  --define "_sourcedir $work/SOURCES" \
  --define "_build_id_links none" \
  "${brp_compress[@]}" \
  rpm/vac.spec
mkdir -p "$out"
for rpm in "$work"/rpmbuild/RPMS/noarch/*.rpm; do
  cp "$rpm" "$out/"
  echo "built $out/$(basename "$rpm") ($(du -k "$rpm" | cut -f1) KiB)"
done
