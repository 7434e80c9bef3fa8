#include "vpcflowd/output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vpcflowd/buf.h"
#include "vpcflowd/config.h"
#include "vpcflowd/io.h"
#include "vpcflowd/log.h"

#define STDOUT_BUF_SIZE (1u << 20)

struct stdout_output {
	struct vf_output base;
	int fd;
	bool failed;
	size_t len;
	char buf[STDOUT_BUF_SIZE];
};

static bool stdout_flush(struct vf_output *o)
{
	struct stdout_output *so = (struct stdout_output *)o;

	if (so->failed)
		return false;
	if (so->len && !vf_write_all(so->fd, so->buf, so->len)) {
		log_warn("stdout output");
		so->failed = true;
		o->errors++;
		return false;
	}
	so->len = 0;
	return true;
}

static bool stdout_write(struct vf_output *o, const char *msg, size_t len)
{
	struct stdout_output *so = (struct stdout_output *)o;

	if (so->failed)
		return false;
	if (len + 1 > STDOUT_BUF_SIZE - so->len && !stdout_flush(o))
		return false;
	if (len + 1 > STDOUT_BUF_SIZE) {
		if (!vf_write_all(so->fd, msg, len) || !vf_write_all(so->fd, "\n", 1)) {
			log_warn("stdout output");
			so->failed = true;
			o->errors++;
			return false;
		}
	} else {
		memcpy(so->buf + so->len, msg, len);
		so->buf[so->len + len] = '\n';
		so->len += len + 1;
	}
	o->messages++;
	o->bytes += len + 1;
	return true;
}

static void stdout_destroy(struct vf_output *o)
{
	free(o);
}

static const struct vf_output_ops stdout_ops = {
	stdout_write, stdout_flush, stdout_destroy,
};

struct vf_output *vf_output_stdout_create(int fd)
{
	struct stdout_output *so = malloc(sizeof(*so));

	if (so == NULL)
		return NULL;
	memset(&so->base, 0, sizeof(so->base));
	so->base.ops = &stdout_ops;
	so->base.name = "stdout";
	so->fd = fd;
	so->failed = false;
	so->len = 0;
	return &so->base;
}

static bool null_write(struct vf_output *o, const char *msg, size_t len)
{
	o->messages++;
	o->bytes += len;
	return true;
}

static bool null_flush(struct vf_output *o)
{
	return true;
}

static void null_destroy(struct vf_output *o)
{
	free(o);
}

static const struct vf_output_ops null_ops = {
	null_write, null_flush, null_destroy,
};

struct vf_output *vf_output_null_create(void)
{
	struct vf_output *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->ops = &null_ops;
	o->name = "null";
	return o;
}

void vf_output_destroy(struct vf_output *o)
{
	if (o != NULL)
		o->ops->destroy(o);
}

struct vf_output *vf_output_create_from_config(const struct vf_config_output *oc)
{
	switch (oc->type) {
	case VF_CONFIG_OUTPUT_STDOUT:
		return vf_output_stdout_create(STDOUT_FILENO);
	case VF_CONFIG_OUTPUT_NULL:
		return vf_output_null_create();
	default:
		log_errorx("output.type %s is not available in this build yet; "
			"use stdout or null", vf_config_output_type_name(oc->type));
		return NULL;
	}
}
