#!/bin/sh
# Prints the stack's outputs as one JSON object: where the site is and how many files it has.
. ./common.sh
workspace=$(cd ../.. && pwd -P)
# Escape the path for a URL (spaces) and for JSON (backslashes, quotes).
url=$(printf 'file://%s/%s/index.html' "$workspace" "$SITE" | sed 's/ /%20/g; s/\\/\\\\/g; s/"/\\"/g')
files=0
if [ -f "$STATE" ]; then files=$(sed -n '/^file /p' "$STATE" | wc -l); fi
printf '{"url":"%s","files":%d}\n' "$url" "$files"
