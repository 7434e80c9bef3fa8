/*
 * The flow line parser: one pass over the line, no allocation. Values are
 * slices of the line; integer fields are checked and converted on the way.
 */
#include "vpcflowd/flow.h"

#include "token.h"


/* Decimal digits only (no sign), at most max. */
static inline bool parse_uint(const char *p, size_t n, uint64_t max,
	uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)p[i] - '0';
		if (d > 9)
			return false;
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

enum vf_flow_status vf_flow_parse(struct vf_flow *flow,
	const struct vf_format *fmt, const char *line, size_t len)
{
	const unsigned n = fmt->n;
	unsigned col = 0;
	size_t i = 0, start;
	bool bad_number = false;

	flow->fmt = fmt;
	while (vf_token_next(line, len, &i, &start)) {
		if (col == n)
			return VF_FLOW_FIELD_COUNT;
		if (i - start == 1 && line[start] == '-') {
			flow->val[col].p = NULL;
			flow->val[col].n = 0;
		} else {
			flow->val[col].p = line + start;
			flow->val[col].n = (uint32_t)(i - start);
			if (fmt->col[col].kind == VF_KIND_INT &&
			    !parse_uint(line + start, i - start,
					fmt->col[col].max, &flow->num[col]))
				bad_number = true;
		}
		col++;
	}
	if (col == 0)
		return VF_FLOW_BLANK;
	if (col != n)
		return VF_FLOW_FIELD_COUNT;
	return bad_number ? VF_FLOW_BAD_NUMBER : VF_FLOW_OK;
}
