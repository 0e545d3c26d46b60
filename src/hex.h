/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_HEX_H
#define MAKINI_HEX_H

/* The value of one hex digit, in either case, or -1 for another byte. */
static inline int
hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
