/*
 * Rendered enrichment text with a marker where the field's name goes (see
 * enrich_internal.h): rendered once per address and table, then copied
 * with the name of each field that holds the address.
 */
#include "enrich_internal.h"

#include <string.h>

#include "vpcflowd/json.h"

bool vf_frag_key(struct vf_buf *b, const char *suffix)
{
	static const char head[] = { ',', '"', '_', VF_FRAG_PREFIX, '_' };
	size_t n = strlen(suffix);

	return vf_buf_append(b, head, sizeof(head)) &&
		vf_buf_append(b, suffix, n) &&
		vf_buf_append(b, "\":", 2);
}

bool vf_frag_str(struct vf_buf *b, const char *suffix, const char *s,
	size_t n)
{
	return vf_frag_key(b, suffix) && vf_json_put_string(b, s, n);
}
