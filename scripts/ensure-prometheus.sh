#!/bin/sh
# The alert-rule test (tests/operations/test_alert_rules.py) runs `promtool check rules` on
# deploy/prometheus/*.rules.yml. promtool ships in Debian's `prometheus` package: install it like the
# browser (scripts/ensure-chromium.sh), never by downloading a release tarball.
# Only as root; otherwise say what is missing and carry on (the test then skips locally, fails in CI).
set -eu
command -v promtool >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing prometheus (Debian package, for promtool) for the alert-rule test"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends: only promtool is needed, not the node exporter and friends
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
else
  echo "note: promtool not installed and not root: the alert-rule test will be skipped (fails in CI)" >&2
fi
