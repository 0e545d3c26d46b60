#!/bin/sh
# The shipped apache proxy setup, run by the real server.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/server-cases.sh"

server_cases apache proxy &&

test_expect_success 'with the FastCGI service out of reach, 503 and the log says why' '
	sc_backend_gone
' &&

server_cases_stop
test_done
