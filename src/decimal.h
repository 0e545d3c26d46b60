/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_DECIMAL_H
#define MAKINI_DECIMAL_H

/*
 * Parses s as a decimal, strtonum-style: one or more digits and nothing
 * else (no sign, no blanks). Returns 0 with *out set when it is at most
 * max; 1 when it is larger, however many digits it has; -1 when s is not
 * a decimal. *out is left alone unless 0 is returned.
 */
int decimal_parse(const char *s, unsigned long long max,
		  unsigned long long *out);

#endif
