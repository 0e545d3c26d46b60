/* See LICENSE file for copyright and license details. */
/*
 * The benchmark's ceiling: a libfcgi program that does the least a
 * receiver must do, read the whole body and answer, and nothing else. It
 * serves CGI and FastCGI alike, as makini-webhook does, so that a ratio to
 * it measures what the receiver adds under the same server and transport.
 */
#include <fcgi_stdio.h>

#include <stdlib.h>

int
main(void)
{
	static char buf[65536];

	while (FCGI_Accept() >= 0) {
		const char *cl = getenv("CONTENT_LENGTH");
		long want = cl ? strtol(cl, NULL, 10) : 0;

		while (want > 0) {
			size_t n = fread(buf, 1, want < (long)sizeof(buf)
						     ? (size_t)want : sizeof(buf),
					 stdin);

			if (n == 0)
				break;
			want -= (long)n;
		}
		fputs("Status: 204 No Content\r\n\r\n", stdout);
	}
	return 0;
}
