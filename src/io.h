#ifndef MAKINI_IO_H
#define MAKINI_IO_H

#include <stddef.h>

/*
 * Writes all len bytes to fd, retrying short writes and EINTR. Returns 0,
 * or -1 with errno set (some bytes may have been written).
 */
int write_all(int fd, const void *data, size_t len);

#endif
