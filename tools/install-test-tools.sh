#!/usr/bin/env bash
# System tools the tests drive that pip cannot install, from Debian's archive; only what is missing.
#   chromium        the browser tests (Playwright drives it; it never downloads a browser here)
#   kustomize       renders deploy/k8s                       (Debian 13 "trixie" package, 5.x)
#   docker compose  validates deploy/compose.yaml (v2 spec)  (Debian 13 "trixie" package docker-compose, 2.x)
# Debian 12 ships neither kustomize nor Compose v2, so both come from trixie's packages: static Go
# binaries that need only libc >= 2.34. They are unpacked into /usr/local, never installed with
# dpkg, so the system's own package set is untouched. `make test` runs this (as root, or with
# passwordless sudo; without them it can only report what is missing).
set -uo pipefail

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; fi
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
PLUGINS=/usr/local/lib/docker/cli-plugins
status=0

if [ ! -x "$CHROMIUM_PATH" ]; then
  ($SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends chromium >/dev/null) \
    || { echo "install-test-tools: could not install chromium at $CHROMIUM_PATH"; status=1; }
fi

have_compose_v2() {
  { command -v docker >/dev/null 2>&1 && docker compose version 2>/dev/null | grep -q 'version v\?2'; } \
    || "$PLUGINS/docker-compose" version 2>/dev/null | grep -q 'version v\?2'
}

need=()
command -v kustomize >/dev/null 2>&1 || need+=(kustomize)
have_compose_v2 || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/archives/partial"
  echo "deb http://deb.debian.org/debian trixie main" >"$work/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
            -o APT::Sandbox::User=root)
  if $SUDO apt-get "${apt_opts[@]}" update -qq && (cd "$work" && $SUDO apt-get "${apt_opts[@]}" download "${need[@]}" -qq); then
    for deb in "$work"/*.deb; do $SUDO dpkg-deb -x "$deb" "$work/root"; done
    if [ -x "$work/root/usr/bin/kustomize" ]; then
      $SUDO install -m 0755 "$work/root/usr/bin/kustomize" /usr/local/bin/kustomize
    fi
    if [ -x "$work/root/usr/libexec/docker/cli-plugins/docker-compose" ]; then
      $SUDO install -D -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGINS/docker-compose"
    fi
  else
    echo "install-test-tools: could not download ${need[*]} from Debian's archive"
    status=1
  fi
fi
command -v kustomize >/dev/null 2>&1 || { echo "install-test-tools: kustomize is missing"; status=1; }
have_compose_v2 || { echo "install-test-tools: Docker Compose v2 is missing"; status=1; }
exit $status
