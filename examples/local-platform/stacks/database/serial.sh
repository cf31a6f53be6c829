#!/bin/sh
# The state serial: how many migrations the database has recorded (0 before it exists). Airlock
# reads it before and after apply, so whether anything changed comes from the database itself.
. ./common.sh
applied | grep -c . || true
