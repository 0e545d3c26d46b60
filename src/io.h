/* See LICENSE file for copyright and license details. */
#ifndef MAKINI_IO_H
#define MAKINI_IO_H

#include <stddef.h>

/*
 * Writes all len bytes to fd, retrying short writes and EINTR. Returns 0,
 * or -1 with errno set (some bytes may have been written).
 */
int write_all(int fd, const void *data, size_t len);

/*
 * For cleanup paths, which must not lose the errno of the failure they
 * clean up after: close(fd), ignored when fd is -1, and unlinkat(dir,
 * name, 0), each leaving errno as it was.
 */
void close_saving_errno(int fd);
void unlink_saving_errno(int dir, const char *name);

#endif
