#!/bin/sh
# Prints the state serial: Airlock reads it before and after apply to know from evidence,
# not from the script's word, whether anything changed.
. ./common.sh
state_serial
