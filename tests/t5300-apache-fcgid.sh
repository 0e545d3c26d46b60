#!/bin/sh
# The shipped apache fcgid setup, run by the real server.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/server-cases.sh"

server_cases apache fcgid &&
server_cases_stop
test_done
