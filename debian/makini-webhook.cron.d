# See LICENSE file for copyright and license details.
#
# The queue's drain for hosts without systemd: runs the hooks of every
# due pending event once a minute. Where systemd runs, use the timer
# instead: systemctl enable --now makini-webhook-drain.timer
# Nothing runs until the line below is uncommented; its settings must be
# those the web server gives the receiver.
#* * * * * www-data MAKINI_WEBHOOK_MODE=queue MAKINI_WEBHOOK_HOOKS=/etc/makini-webhook/hooks MAKINI_WEBHOOK_SPOOL=/var/spool/makini-webhook /usr/bin/makini-webhook drain >/dev/null
