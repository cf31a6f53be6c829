#!/bin/sh
# Applies the plan artifact ($AIRLOCK_PLAN_FILE) made by plan.sh, exactly: it refuses a stale plan
# (a deployed file differs from what the plan saw) before changing anything, writes the planned
# bytes (not today's content/), and records each change in the state file as it goes, advancing
# the serial once per apply that changes something. Progress lines use OpenTofu's wording, which
# Airlock reads to count what changed if an apply stops half way.
#
# Test knobs, for trying Airlock's failure handling (harmless when unset):
#   SITE_FAIL_AFTER=N   change N files (recorded in the state, serial advanced), then fail with
#                       exit 1: a real partial apply.
#   SITE_APPLY_DELAY=S  wait S seconds before changing anything; SIGINT or SIGTERM during the wait
#                       exits 130 with nothing changed (a graceful cancellation).
. ./common.sh
: "${AIRLOCK_PLAN_FILE:?is not set (Airlock sets it for apply)}"
[ -f "$AIRLOCK_PLAN_FILE" ] || fail "no plan artifact at $AIRLOCK_PLAN_FILE"
stale() { echo "Error: Saved plan is stale: $* since the plan was made; plan again" >&2; exit 1; }

read -r magic format planned_for < "$AIRLOCK_PLAN_FILE" || true
[ "${magic:-} ${format:-}" = "site-plan 1" ] || fail "$AIRLOCK_PLAN_FILE is not a plan artifact of plan.sh"
[ "$planned_for" = "$AIRLOCK_ENVIRONMENT" ] || fail "the plan was made for $planned_for, not $AIRLOCK_ENVIRONMENT"

# 1. Check everything before changing anything.
while read -r action name before after data; do
  if [ "$action" = site-plan ]; then continue; fi
  have=-
  if [ -f "$TARGET/$name" ]; then have=$(hash_of "$TARGET/$name"); fi
  [ "$have" = "$before" ] || stale "$SITE/$name changed"
  if [ "$data" != - ]; then
    [ "$(printf '%s' "$data" | base64 -d | sha256sum | cut -d' ' -f1)" = "$after" ] || fail "the plan artifact is corrupt ($name)"
  fi
done < "$AIRLOCK_PLAN_FILE"
for file in "$TARGET"/*; do
  [ -e "$file" ] || continue
  cut -d' ' -f2 "$AIRLOCK_PLAN_FILE" | grep -qxF "${file##*/}" || stale "$SITE/${file##*/} appeared"
done

# 2. Test knob: a cancellable wait. The trap runs as soon as the signal arrives because the
#    shell waits with "wait", not for a foreground sleep.
if [ -n "${SITE_APPLY_DELAY:-}" ]; then
  trap 'kill "${sleeper:-}" 2>/dev/null || true; echo "site: apply cancelled; nothing changed" >&2; exit 130' INT TERM
  sleep "$SITE_APPLY_DELAY" &
  sleeper=$!
  echo "site: waiting ${SITE_APPLY_DELAY}s before changing anything (SITE_APPLY_DELAY)"
  wait "$sleeper"
  trap - INT TERM
fi

# 3. Apply, one file at a time. The state is rewritten after each file, so it never claims more
#    (or less) than what was done, even if the apply stops half way.
serial=$(state_serial)
new_serial=$((serial + 1))
record() { # file name, its new hash ("-" when deleted)
  {
    echo "serial=$new_serial"
    if [ -f "$STATE" ]; then
      while read -r kind n h; do
        if [ "$kind" = file ] && [ "$n" != "$1" ]; then echo "file $n $h"; fi
      done < "$STATE"
    fi
    if [ "$2" != - ]; then echo "file $1 $2"; fi
  } > "$STATE.new"
  mv "$STATE.new" "$STATE"
}

mkdir -p "$TARGET"
changed=0 added=0 updated=0 deleted=0
while read -r action name before after data; do
  address=$(address_of "$name")
  case $action in
    create | update)
      if [ "$action" = create ]; then echo "$address: Creating..."; else echo "$address: Modifying..."; fi
      printf '%s' "$data" | base64 -d > "$TARGET/.$name.new"
      mv "$TARGET/.$name.new" "$TARGET/$name" # a rename: readers never see half a file
      record "$name" "$after"
      if [ "$action" = create ]; then
        added=$((added + 1)); echo "$address: Creation complete after 0s [id=$SITE/$name]"
      else
        updated=$((updated + 1)); echo "$address: Modifications complete after 0s [id=$SITE/$name]"
      fi
      ;;
    delete)
      echo "$address: Destroying... [id=$SITE/$name]"
      rm -f "$TARGET/$name"
      record "$name" -
      deleted=$((deleted + 1)); echo "$address: Destruction complete after 0s"
      ;;
    *) continue ;; # the header line and no-op files
  esac
  changed=$((changed + 1))
  if [ -n "${SITE_FAIL_AFTER:-}" ] && [ "$changed" -ge "$SITE_FAIL_AFTER" ]; then
    echo "Error: stopping after $changed changed file(s) because SITE_FAIL_AFTER=$SITE_FAIL_AFTER (test knob)" >&2
    exit 1
  fi
done < "$AIRLOCK_PLAN_FILE"

echo "Apply complete! Resources: $added added, $updated changed, $deleted destroyed."
