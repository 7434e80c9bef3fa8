/*
 * Splitting flow log text into space-separated tokens (runs of spaces,
 * tabs and line ends count as one separator). Inline: the line parser is
 * on the hot path.
 */
#ifndef VPCFLOWD_CODEC_TOKEN_H
#define VPCFLOWD_CODEC_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

static inline bool vf_token_is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Finds the token at or after *pos: true with it in [*start, *pos), false
 * when only separators are left.
 */
static inline bool vf_token_next(const char *s, size_t len, size_t *pos,
	size_t *start)
{
	size_t i = *pos;

	while (i < len && vf_token_is_sep(s[i]))
		i++;
	if (i == len) {
		*pos = i;
		return false;
	}
	*start = i;
	while (i < len && !vf_token_is_sep(s[i]))
		i++;
	*pos = i;
	return true;
}

#endif
