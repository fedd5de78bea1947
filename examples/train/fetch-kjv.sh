#!/usr/bin/env bash
# Writes kjv.txt: the King James Version of the Bible (public domain), one verse a line with its
# reference, from Debian's packages bible-kjv-text (the compressed text) and bible-kjv (the reader).
# Needs apt-get (Debian or Ubuntu); nothing is installed: the packages are unpacked into a
# temporary folder.
set -euo pipefail
out="${1:-kjv.txt}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 777 "$work"
(cd "$work" && apt-get download bible-kjv-text bible-kjv >/dev/null)
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
"$work/root/usr/bin/bible" -f -p "$work/root/usr/lib" "gen1:1-rev22:21" > "$out"
echo "wrote $out: $(wc -l < "$out") verses"
