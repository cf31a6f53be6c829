#!/bin/sh
# Plans the site: compares the desired files (content/) with the deployed ones (target/<env>/site/)
# by sha256, one resource per file, and writes
#   $AIRLOCK_PLAN_JSON  Terraform-format plan JSON: what Airlock summarises, checks and approves;
#   $AIRLOCK_PLAN_FILE  the plan artifact apply.sh applies: each action with the hash it expects
#                       to find and the exact bytes to write, so apply deploys what was approved
#                       even if content/ changes afterwards.
. ./common.sh
: "${AIRLOCK_PLAN_JSON:?is not set (Airlock sets it for plan)}"
: "${AIRLOCK_PLAN_FILE:?is not set (Airlock sets it for plan)}"

json="$AIRLOCK_PLAN_JSON.tmp"
artifact="$AIRLOCK_PLAN_FILE.tmp"
echo "site-plan 1 $AIRLOCK_ENVIRONMENT" > "$artifact"
printf '{"format_version":"1.2","resource_changes":[' > "$json"
separator=""
add=0 change=0 destroy=0

# One resource change: action, file name, hash now ("-" if absent), hash after ("-" if deleted).
resource() {
  before=null after=null
  if [ "$3" != - ]; then before="{\"filename\":\"$SITE/$2\",\"content_sha256\":\"$3\"}"; fi
  if [ "$4" != - ]; then after="{\"filename\":\"$SITE/$2\",\"content_sha256\":\"$4\"}"; fi
  address=$(address_of "$2")
  printf '%s\n{"address":"%s","mode":"managed","type":"local_file","name":"%s","provider_name":"getting-started/site","change":{"actions":["%s"],"before":%s,"after":%s,"after_unknown":{}}}' \
    "$separator" "$address" "${address#local_file.}" "$1" "$before" "$after" >> "$json"
  separator=","
  case $1 in
    create) add=$((add + 1)); echo "  # $address will be created" ;;
    update) change=$((change + 1)); echo "  # $address will be updated in-place" ;;
    delete) destroy=$((destroy + 1)); echo "  # $address will be destroyed" ;;
  esac
}

for file in content/*; do
  [ -e "$file" ] || continue # content/ is empty
  name=${file#content/}
  [ -f "$file" ] && valid_name "$name" || fail "content/$name: only plain files named [A-Za-z0-9._-] are supported"
  want=$(hash_of "$file")
  have=-
  if [ -f "$TARGET/$name" ]; then have=$(hash_of "$TARGET/$name"); fi
  if [ "$have" = - ]; then action=create; elif [ "$have" = "$want" ]; then action=no-op; else action=update; fi
  resource "$action" "$name" "$have" "$want"
  data=-
  if [ "$action" != no-op ]; then data=$(base64 -w0 < "$file"); fi
  echo "$action $name $have $want $data" >> "$artifact"
done

# Deployed files that content/ no longer has are deleted.
for file in "$TARGET"/*; do
  [ -e "$file" ] || continue # nothing deployed yet
  name=${file##*/}
  if [ -e "content/$name" ]; then continue; fi
  valid_name "$name" || fail "$SITE/$name: only plain files named [A-Za-z0-9._-] are supported"
  have=$(hash_of "$file")
  resource delete "$name" "$have" -
  echo "delete $name $have - -" >> "$artifact"
done

printf '\n]}\n' >> "$json"
# Rename last, so Airlock never sees half a plan.
mv "$artifact" "$AIRLOCK_PLAN_FILE"
mv "$json" "$AIRLOCK_PLAN_JSON"
if [ $((add + change + destroy)) -eq 0 ]; then
  echo "No changes. $SITE matches content/."
else
  echo "Plan: $add to add, $change to change, $destroy to destroy."
fi
