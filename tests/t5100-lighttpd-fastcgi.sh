#!/bin/sh
# See LICENSE file for copyright and license details.
# The shipped lighttpd fastcgi setup, run by the real server.
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/server-cases.sh"

server_cases lighttpd fastcgi &&
server_cases_stop
test_done
