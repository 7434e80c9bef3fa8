#include "vpcflowd/stats.h"

static const char *const error_names[VF_ERR_COUNT] = {
	[VF_ERR_GZIP] = "gzip",
	[VF_ERR_TOO_LARGE] = "too_large",
	[VF_ERR_KPL] = "kpl",
	[VF_ERR_JSON] = "json",
	[VF_ERR_ENVELOPE] = "envelope",
	[VF_ERR_EVENT] = "event",
	[VF_ERR_CONTENT] = "content",
	[VF_ERR_FIELD_COUNT] = "field_count",
	[VF_ERR_BAD_NUMBER] = "bad_number",
	[VF_ERR_ENCODE] = "encode",
};

static const char *const status_names[VF_STATUS_COUNT] = {
	"OK", "NODATA", "SKIPDATA", "other",
};

const char *vf_error_kind_name(enum vf_error_kind kind)
{
	return (unsigned)kind < VF_ERR_COUNT ? error_names[kind] : "unknown";
}

const char *vf_log_status_name(enum vf_log_status_kind s)
{
	return (unsigned)s < VF_STATUS_COUNT ? status_names[s] : "other";
}

uint64_t vf_stats_errors(const struct vf_stats *st)
{
	uint64_t n = 0;

	for (int i = 0; i < VF_ERR_COUNT; i++)
		n += st->errors[i];
	return n;
}
