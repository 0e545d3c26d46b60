#!/bin/sh
# The shipped apache proxy setup, run by the real server.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/server-cases.sh"

server_cases apache proxy &&
server_cases_stop
test_done
