/* See LICENSE file for copyright and license details. */
/* The one decimal parser, for configuration values and CONTENT_LENGTH. */
#include "decimal.h"

int
decimal_parse(const char *s, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	int over = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (!over) {
			unsigned digit = (unsigned)(*s - '0');

			over = digit > max || v > (max - digit) / 10;
			v = v * 10 + digit;
		}
	}
	if (over)
		return 1;
	*out = v;
	return 0;
}
