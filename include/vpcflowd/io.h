#ifndef VPCFLOWD_IO_H
#define VPCFLOWD_IO_H

#include <stdbool.h>
#include <stddef.h>

/* Writes all n bytes to fd, retrying short writes and EINTR; false (errno set) on an error. */
bool vf_write_all(int fd, const void *p, size_t n);

#endif
