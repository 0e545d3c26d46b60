/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_ALLOW_H
#define MAKINI_ALLOW_H

#include <stddef.h>

#define ALLOW_MAX 32 /* entries in MAKINI_WEBHOOK_ALLOW_FROM */

/* One address or network, IPv4 or IPv6, with its prefix length in bits. */
struct allow_net {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned prefix;
};

struct allow_list {
	struct allow_net nets[ALLOW_MAX];
	size_t count;
};

/*
 * Parses a comma-separated list of addresses and CIDRs ("10.0.0.0/8,
 * ::1, 192.0.2.7"), blanks around entries allowed. Returns 0, or -1 with a
 * static message in *why.
 */
int allow_parse(struct allow_list *list, const char *text, const char **why);

/*
 * Returns 1 when addr (a REMOTE_ADDR, IPv4, IPv6 or IPv4-mapped IPv6) lies
 * in one of the list's networks, else 0. An unparsable addr never matches.
 */
int allow_match(const struct allow_list *list, const char *addr);

#endif
