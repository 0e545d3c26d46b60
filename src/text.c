/* See LICENSE file for copyright and license details. */
/* Bounded text, put together without printf's format parsing. */
#include "text.h"

#include <string.h>

void
text_init(struct text *t, char *buf, size_t size)
{
	t->buf = t->p = buf;
	t->end = buf + size - 1;
	t->full = 0;
	*t->p = '\0';
}

void
text_add_mem(struct text *t, const void *s, size_t len)
{
	size_t room = (size_t)(t->end - t->p);

	if (len > room) {
		len = room;
		t->full = 1;
	}
	memcpy(t->p, s, len);
	t->p += len;
}

void
text_add(struct text *t, const char *s)
{
	text_add_mem(t, s, strlen(s));
}

void
text_add_uint(struct text *t, unsigned long long v, int width)
{
	char digits[24];
	int n = 0;

	do {
		digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < (int)sizeof(digits));
	while (n < width && n < (int)sizeof(digits))
		digits[sizeof(digits) - 1 - n++] = '0';
	text_add_mem(t, digits + sizeof(digits) - n, (size_t)n);
}

size_t
text_done_cut(struct text *t)
{
	*t->p = '\0';
	return (size_t)(t->p - t->buf);
}

size_t
text_done(struct text *t)
{
	size_t len = text_done_cut(t);

	return t->full ? 0 : len;
}
