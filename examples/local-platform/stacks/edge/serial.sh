#!/bin/sh
# The state serial: advanced by every apply that changes the routing config.
. ./common.sh
state_serial
