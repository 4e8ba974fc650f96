#!/usr/bin/env bash
# Makes sure the headless Chromium and its WebDriver that the web UI's
# browser test drives are installed: installs Debian's `chromium` and
# `chromium-driver` when /usr/bin/chromium or /usr/bin/chromedriver is
# missing (as root). CONTINUUM_CHROMIUM and CONTINUUM_CHROMEDRIVER name
# other binaries; given, they are used as they are.
set -euo pipefail
browser="${CONTINUUM_CHROMIUM:-/usr/bin/chromium}"
driver="${CONTINUUM_CHROMEDRIVER:-/usr/bin/chromedriver}"
if [ -x "$browser" ] && [ -x "$driver" ]; then exit 0; fi
if [ -n "${CONTINUUM_CHROMIUM:-}${CONTINUUM_CHROMEDRIVER:-}" ]; then
  echo "ensure-chromium: $browser or $driver (CONTINUUM_CHROMIUM / CONTINUUM_CHROMEDRIVER) is not an executable" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: the web UI's browser test needs $browser and $driver; install Debian's chromium and chromium-driver as root (apt-get install chromium chromium-driver)" >&2
  exit 1
fi
echo "ensure-chromium: installing chromium and chromium-driver from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }; then
  echo "ensure-chromium: apt-get could not install chromium and chromium-driver; the web UI's browser test needs them" >&2
  exit 1
fi
if [ ! -x "$browser" ] || [ ! -x "$driver" ]; then
  echo "ensure-chromium: chromium was installed, yet $browser or $driver is missing" >&2
  exit 1
fi
