#!/bin/sh
# See LICENSE file for copyright and license details.
# The shipped Apache mod_proxy_fcgi setup with its FastCGI service from the
# shipped systemd units (apache/systemd/), started as systemd would start
# them, run by the real server.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/server-cases.sh"

if ! command -v multiwatch >/dev/null; then
	test_skip "multiwatch, which the service runs, is not installed (make deps)"
	test_done
fi

server_cases apache systemd &&

test_expect_success 'with the FastCGI service out of reach, 503 and the log says why' '
	sc_backend_gone
' &&

server_cases_stop
test_done
