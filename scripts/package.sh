#!/usr/bin/env bash
# Builds the desktop app's Linux packages with Tauri's bundler (the Tauri CLI
# 2.x from npm, @tauri-apps/cli pinned in package.json: `npx tauri build`)
# and leaves them in dist/:
#   dist/refresh-race_<version>_<arch>.deb      Debian, Ubuntu
#   dist/refresh-race-<version>-1.<arch>.rpm    Fedora, openSUSE
# Each installs the app (`refresh-race-desktop`, with a menu entry and icons)
# and the CLI (`refresh-race`) into /usr/bin. The version is the workspace's
# (root Cargo.toml); tauri.conf.json has none of its own.
#
# No AppImage: Tauri's AppImage bundler downloads linuxdeploy while it runs,
# and these machines reach no host but the package registries. macOS (.app,
# .dmg) and Windows (.msi, NSIS) are configured in tauri.conf.json but are
# built on their own OS (`npx tauri build` there).
#
# Installs what is missing first (scripts/install-deps.sh, and `npm ci` when
# the pinned Tauri CLI is not in node_modules yet). Neither packager needs rpmbuild or dpkg-dev: the bundler writes
# both formats itself.
#
# usage: scripts/package.sh [--debug] [--bundles deb,rpm] [-- CARGO_ARGS...]
#   --debug     a debug build into dist/debug/ (faster; CI tests this one)
#   --bundles   deb, rpm or deb,rpm (the default)
#   -- ...      cargo's package and target selection, instead of
#               `-p refresh-race-desktop -p refresh-race` (scripts/test.sh
#               gives its own build's, so the debug .deb reuses that build)
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
bundles=deb,rpm
cargo_args=(-p refresh-race-desktop -p refresh-race)
while (($#)); do
  case $1 in
    --debug) profile=debug ;;
    --bundles) bundles=${2:?--bundles needs deb, rpm or deb,rpm}; shift ;;
    --bundles=*) bundles=${1#--bundles=} ;;
    --) shift; cargo_args=("$@"); break ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "package.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
IFS=, read -r -a kinds <<<"$bundles"
for kind in "${kinds[@]}"; do
  [[ $kind == deb || $kind == rpm ]] || { echo "package.sh: --bundles takes deb and/or rpm, not '$kind'" >&2; exit 2; }
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/refresh-race-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

bash scripts/install-deps.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# The Tauri CLI is an npm package with a prebuilt binary (package.json pins it).
tauri=node_modules/.bin/tauri
if [[ ! -x $tauri ]]; then
  echo "package.sh: npm ci (for the pinned Tauri CLI, @tauri-apps/cli)"
  npm ci --no-audit --no-fund
fi

version=$(awk '/^\[workspace\.package\]/ { inside = 1; next } /^\[/ { inside = 0 }
  inside && /^version *=/ { gsub(/^version *= *"|".*$/, ""); print; exit }' Cargo.toml)
[[ -n $version ]] || { echo "package.sh: no [workspace.package] version in Cargo.toml" >&2; exit 1; }
echo "package.sh: Refresh Race $version, $profile build, bundles: $bundles"

# The packages carry the CLI next to the app. Tauri's `cargo build` builds it
# too (the `-p` arguments, or the cargo arguments given after `--`): one
# feature resolution for both, so their shared dependencies compile once.
cli="$CARGO_TARGET_DIR/$profile/refresh-race"

# `files` maps a path in the package to a file here. The CLI's path depends
# on CARGO_TARGET_DIR, so it is merged into tauri.conf.json on the command
# line (JSON merge patch) rather than written there.
cli_json=$(printf '%s' "$cli" | sed 's/\\/\\\\/g; s/"/\\"/g')
files="{\"/usr/bin/refresh-race\": \"$cli_json\"}"
config="{\"bundle\": {\"linux\": {\"deb\": {\"files\": $files}, \"rpm\": {\"files\": $files}}}}"

tauri_flags=(--bundles "$bundles" --config "$config" --ci)
[[ $profile == debug ]] && tauri_flags+=(--debug)
"$tauri" build "${tauri_flags[@]}" -- "${cargo_args[@]}"

# Tauri names the files after the product name ("Refresh Race_0.2.0_amd64.deb");
# dist/ uses the package's own name, as apt and dnf show it.
bundle_dir="$CARGO_TARGET_DIR/$profile/bundle"
out=dist
[[ $profile == debug ]] && out=dist/debug
mkdir -p "$out"
made=()
for kind in "${kinds[@]}"; do
  rm -f "$out"/refresh-race[_-]*."$kind"
  found=0
  for built in "$bundle_dir/$kind"/*"$version"*."$kind"; do
    [[ -f $built ]] || continue
    name=$(basename "$built")
    name=${name//Refresh Race/refresh-race}
    mv "$built" "$out/$name"
    made+=("$out/$name")
    found=1
  done
  ((found)) || { echo "package.sh: the bundler left no .$kind for $version in $bundle_dir/$kind" >&2; exit 1; }
  # The bundler's staging folders hold another copy of both binaries (half a
  # gigabyte in a debug build): the package has them now.
  find "$bundle_dir/$kind" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
done

# What an installer will see; and the CLI must be in there.
for package in "${made[@]}"; do
  echo
  echo "==> $package ($(du -h "$package" | cut -f1))"
  case $package in
    *.deb)
      dpkg-deb --field "$package" Package Version Architecture Maintainer Section Depends Recommends
      # A variable, not a pipe into grep -q: that would cut dpkg-deb off (pipefail).
      contents=$(dpkg-deb --contents "$package")
      grep -Eq ' (\./)?usr/bin/refresh-race$' <<<"$contents" \
        || { echo "package.sh: $package lacks usr/bin/refresh-race" >&2; exit 1; }
      ;;
    *.rpm)
      if command -v rpm >/dev/null; then
        rpm -qp --queryformat '%{NAME} %{VERSION}-%{RELEASE} %{ARCH}, %{LICENSE}\n' "$package"
        contents=$(rpm -qlp "$package")
        grep -qx /usr/bin/refresh-race <<<"$contents" \
          || { echo "package.sh: $package lacks /usr/bin/refresh-race" >&2; exit 1; }
      else
        echo "(install the rpm package to inspect it: rpm -qip $package)"
      fi
      ;;
  esac
done
echo
echo "package.sh: done: ${made[*]}"
