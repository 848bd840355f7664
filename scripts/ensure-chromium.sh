#!/bin/sh
# The browser test (tests/http/test_browser.py) drives Debian's chromium through Playwright.
# Never `playwright install` (no browser downloads): install the distribution's chromium, plus a small
# CJK font so the Chinese web chat renders (and screenshots show text, not boxes).
# Only as root; otherwise say what is missing and carry on (the test then skips locally, fails in CI).
set -eu
missing=""
command -v chromium >/dev/null 2>&1 || missing="chromium"
if command -v fc-list >/dev/null 2>&1; then
  fc-list :lang=zh family 2>/dev/null | grep -q . || missing="$missing fonts-wqy-microhei"
elif [ -z "$missing" ] && ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1; then
  missing="fonts-wqy-microhei"
fi
missing="${missing# }"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing $missing (Debian packages) for the browser test"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq $missing >/dev/null
else
  echo "note: $missing not installed and not root: the browser test will be skipped (fails in CI)" >&2
fi
