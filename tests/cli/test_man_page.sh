#!/bin/sh
# genmodel(1) and --help name the same options, and the page has a section
# for every command `genmodel --help` lists. The page's options are its
# items (the line after .TP or .TQ); --help's are the lines of its option
# tables (two spaces, then a dash), over every command. Each side's extra
# options are named.
# Usage: test_man_page.sh GENMODEL_TOOL MAN_PAGE
set -eu
tool=$1
page=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# options in a text, one a line: a dash or two, then a lowercase word
options() { grep -oE '(^|[ "(])--?[a-z][a-z0-9-]*' | sed 's/^[ "(]//'; }

# "vae train|sample|..." gives "vae train", "vae sample", ...; "info MODEL" gives "info"
"$tool" --help > "$tmp/top"
commands=$(sed -n 's/^  \([a-z][a-z]*\) \([a-z|]*\).*/\1 \2/p' "$tmp/top" | while read -r kind subs; do
  if [ -z "$subs" ]; then echo "$kind"; else echo "$subs" | tr '|' '\n' | sed "s/^/$kind /"; fi
done)
[ -n "$commands" ] || { echo "FAIL: no commands in genmodel --help"; exit 1; }

# every command's table; every command also takes -h and --help (cli_parse)
{
  grep '^  -' "$tmp/top" | options
  echo "$commands" | while read -r words; do
    # shellcheck disable=SC2086
    "$tool" $words --help 2>&1 | grep '^  -' | options
  done
  printf '%s\n' -h --help
} | sort -u > "$tmp/help"

sed 's/\\-/-/g' "$page" | awk 'item { print } { item = /^\.(TP|TQ)/ }' | options | sort -u > "$tmp/page"

status=0
missing=$(comm -23 "$tmp/help" "$tmp/page")
extra=$(comm -13 "$tmp/help" "$tmp/page")
[ -z "$missing" ] || { echo "FAIL: in --help, not in $page:" $missing; status=1; }
[ -z "$extra" ] || { echo "FAIL: in $page, not in any --help:" $extra; status=1; }

# the .SS headings: "vae train, gan train" names two commands
sed -n 's/^\.SS "*\([^"]*\)"*$/\1/p' "$page" | sed 's/\\-/-/g; s/, /,/g' | tr ',' '\n' | sort -u > "$tmp/sections"
echo "$commands" | sort -u > "$tmp/commands"
unsectioned=$(comm -23 "$tmp/commands" "$tmp/sections" | tr '\n' ',' | sed 's/,$//; s/,/, /g')
[ -z "$unsectioned" ] || { echo "FAIL: $page has no section (.SS) for: $unsectioned"; status=1; }
[ "$status" -ne 0 ] || echo "ok: $(wc -l < "$tmp/help") options, $(wc -l < "$tmp/commands") commands"
exit $status
