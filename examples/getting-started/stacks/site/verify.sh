#!/bin/sh
# Verification after apply: every deployed file still has the content apply wrote (the hashes
# in the state file). Exits 1 with a one-line reason otherwise.
. ./common.sh
[ -f "$STATE" ] || fail "nothing is deployed to $SITE (no state file)"
count=0
while read -r kind name want; do
  if [ "$kind" != file ]; then continue; fi
  [ -f "$TARGET/$name" ] || fail "$SITE/$name is missing"
  have=$(hash_of "$TARGET/$name")
  [ "$have" = "$want" ] || fail "$SITE/$name was changed after apply (sha256 $have, applied $want)"
  count=$((count + 1))
done < "$STATE"
echo "site: $count files in $SITE match the applied content"
