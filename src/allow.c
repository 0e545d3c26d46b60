/* See LICENSE file for copyright and license details. */
/*
 * MAKINI_WEBHOOK_ALLOW_FROM: addresses and CIDRs parsed, and REMOTE_ADDR
 * matched against them.
 */
#include "allow.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static int
parse_net(struct allow_net *net, const char *text, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	unsigned max;
	long prefix;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, net->addr) == 1) {
		net->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, net->addr) == 1) {
		net->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	net->prefix = max;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		prefix = strtol(slash + 1, &end, 10);
		if (*end || prefix < 0 || prefix > (long)max)
			return -1;
		net->prefix = (unsigned)prefix;
	}
	return 0;
}

int
allow_parse(struct allow_list *list, const char *text, const char **why)
{
	const char *p = text;

	list->count = 0;
	for (;;) {
		const char *start, *end;

		while (*p == ' ' || *p == '\t')
			p++;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (list->count == ALLOW_MAX) {
			*why = "has too many entries";
			return -1;
		}
		if (parse_net(&list->nets[list->count], start,
			      (size_t)(end - start)) < 0) {
			*why = "holds an entry that is not an address or CIDR";
			return -1;
		}
		list->count++;
		if (!*p)
			return 0;
		p++;
	}
}

static int
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[bytes] ^ b[bytes]) & (0xff00 >> rest)) == 0;
}

int
allow_match(const struct allow_list *list, const char *addr)
{
	static const unsigned char v4_mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	unsigned char v4[4], v6[16];
	int has_v4 = 0, has_v6 = 0;

	if (!addr)
		return 0;
	if (inet_pton(AF_INET, addr, v4) == 1) {
		has_v4 = 1;
	} else if (inet_pton(AF_INET6, addr, v6) == 1) {
		has_v6 = 1;
		/* A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d. */
		if (memcmp(v6, v4_mapped, sizeof(v4_mapped)) == 0) {
			memcpy(v4, v6 + 12, 4);
			has_v4 = 1;
		}
	}
	for (size_t i = 0; i < list->count; i++) {
		const struct allow_net *net = &list->nets[i];

		if (net->family == AF_INET && has_v4 &&
		    prefix_equal(net->addr, v4, net->prefix))
			return 1;
		if (net->family == AF_INET6 && has_v6 &&
		    prefix_equal(net->addr, v6, net->prefix))
			return 1;
	}
	return 0;
}
