#!/usr/bin/env bash
# Writes the King James Version of the Bible as plain text for examples/char_lm:
#
#   scripts/get-text.sh [OUT]        (default: build/data/kjv.txt under the repository root)
#
# The text comes from the Debian package bible-kjv (program /usr/bin/bible, text in
# bible-kjv-text; scripts/install-deps.sh installs it). The KJV translation dates from 1611 and
# its copyright has expired; the package's copyright file says so, and its data is "provided for
# unrestricted use". `bible gen1:1-rev22:21` prints all 66 books with a "Book N" header before
# each chapter, a number before each verse and lines wrapped at 80 columns. The cleaned text has
# one verse per line, without the headers and the verse numbers, the wrapped lines joined with a
# space and runs of spaces squeezed: 31102 lines, 4137848 bytes of ASCII, 63 distinct characters
# (the letters but upper-case X, the space, !'(),-.:;? and the newline; no digits).
#
# Idempotent: an existing non-empty OUT is kept. The file is written to a temporary name and
# renamed, so two runs at once (parallel ctest) never leave a half-written text.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/build/data/kjv.txt}"

if [ -s "$out" ]; then
  echo "get-text: $out already exists"
  exit 0
fi
if ! command -v bible > /dev/null; then
  echo "get-text: the program 'bible' is missing; install the Debian package bible-kjv" \
       "(scripts/install-deps.sh does)" >&2
  exit 1
fi

mkdir -p "$(dirname "$out")"
tmp="$(mktemp "$out.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
# Each chapter header ("Genesis 1") stands between two empty lines; a line "  N text" starts
# verse N; any other non-empty line continues the current verse.
bible "gen1:1-rev22:21" | awk '
  /^$/                  { after_empty = 1; next }
  /^  [0-9]+ /          { if (verse != "") print verse; sub(/^  [0-9]+ /, ""); verse = $0
                          after_empty = 0; next }
  after_empty           { after_empty = 0; next }
                        { verse = verse " " $0 }
  END                   { if (verse != "") print verse }
' | tr -s ' ' > "$tmp"

lines=$(wc -l < "$tmp")
if [ "$lines" -ne 31102 ]; then
  echo "get-text: expected 31102 verses from 'bible', got $lines; $out not written" >&2
  exit 1
fi
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "get-text: wrote $out ($lines verses, $(wc -c < "$out") bytes)"
