/*
 * IP protocol numbers to names: the keywords of IANA's "Assigned Internet
 * Protocol Numbers" registry, upper-cased, for the GELF protocol field.
 */
#ifndef VPCFLOWD_PROTOCOLS_H
#define VPCFLOWD_PROTOCOLS_H

#include <stddef.h>

/*
 * Upper-case IANA keyword for an IP protocol number ("TCP", "UDP", "ICMP",
 * "IPV6-ICMP", ...); "UNKNOWN" for unassigned numbers, for the entries that
 * have no keyword (61, 63, 68, 99, 114, the experimental 253 and 254, the
 * reserved 255) and for numbers > 255. The string is static and
 * NUL-terminated; len (may be NULL) receives its length. O(1), allocates
 * nothing.
 */
const char *vf_protocol_name(unsigned number, size_t *len);

#endif
