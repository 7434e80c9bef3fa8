#ifndef VPCFLOWD_IO_H
#define VPCFLOWD_IO_H

#include <stdbool.h>
#include <stddef.h>

/* Writes all n bytes to fd, retrying short writes and EINTR; false (errno set) on an error. */
bool vf_write_all(int fd, const void *p, size_t n);

/*
 * A whole regular file, NUL-terminated (the NUL not counted in *len); NULL
 * with errno set when it cannot be read or holds more than max bytes
 * (EFBIG). free() it.
 */
char *vf_read_file(const char *path, size_t max, size_t *len);

#endif
