# See LICENSE file for copyright and license details.
#
# The queue's drain for hosts without systemd: runs the hooks of every
# due pending event once a minute. Where systemd runs, use the timer
# instead: systemctl enable --now makini-webhook-drain.timer
# Nothing runs until the line below is uncommented; its settings must be
# those the web server gives the receiver. It tests for the program first:
# this file stays after the package is removed.
#* * * * * www-data test -x /usr/bin/makini-webhook && MAKINI_WEBHOOK_MODE=queue MAKINI_WEBHOOK_HOOKS=/etc/makini-webhook/hooks MAKINI_WEBHOOK_SPOOL=/var/spool/makini-webhook /usr/bin/makini-webhook drain >/dev/null
