/* See LICENSE file for copyright and license details. */
/* Bounded text: pieces, numbers, and what does not fit. */
#include <string.h>

#include "text.h"
#include "unit.h"

int
main(void)
{
	char buf[16];
	struct text t;

	text_init(&t, buf, sizeof(buf));
	text_add(&t, "Status: ");
	text_add_uint(&t, 200, 0);
	CHECK("pieces", text_done(&t) == 11 && strcmp(buf, "Status: 200") == 0);

	text_init(&t, buf, sizeof(buf));
	text_add_uint(&t, 7, 3);
	text_add(&t, ".");
	text_add_uint(&t, 0, 0);
	text_add(&t, ".");
	text_add_uint(&t, 12345, 3);
	text_add(&t, ".");
	text_add_uint(&t, 18446744073709551615ULL, 0);
	CHECK("numbers, padded and not, cut at the end",
	      text_done(&t) == 0 && strcmp(buf, "007.0.12345.184") == 0);
	CHECK("what fit, of a cut text", text_done_cut(&t) == 15);

	text_init(&t, buf, sizeof(buf));
	text_add(&t, "0123456789abcde");
	CHECK("exactly full is not cut", text_done(&t) == 15 && !t.full);
	text_add_mem(&t, "", 0);
	CHECK("nothing more is not cut", text_done(&t) == 15);
	text_add(&t, "f");
	CHECK("one byte more is",
	      text_done(&t) == 0 && strcmp(buf, "0123456789abcde") == 0);

	text_init(&t, buf, 1);
	text_add(&t, "x");
	CHECK("a buffer of one byte holds the NUL",
	      text_done(&t) == 0 && buf[0] == '\0');
	return unit_report();
}
