/*
 * Outputs: where encoded GELF documents go. Each output copies what it is
 * given (the caller reuses its buffer at once). This issue has stdout (one
 * document a line) and null (encode, count, discard); the network outputs
 * and delivery acknowledgements come with the outputs issue.
 */
#ifndef VPCFLOWD_OUTPUT_H
#define VPCFLOWD_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vf_output;

struct vf_output_ops {
	/* Takes one document; false on a write error (logged by the output). */
	bool (*write)(struct vf_output *o, const char *msg, size_t len);
	/* Pushes out whatever is buffered. */
	bool (*flush)(struct vf_output *o);
	void (*destroy)(struct vf_output *o);
};

struct vf_output {
	const struct vf_output_ops *ops;
	const char *name;       /* the `output` metrics label */
	uint64_t messages;      /* documents taken */
	uint64_t bytes;
	uint64_t errors;
};

/* Writes newline-terminated documents to fd, in large writes. Does not close fd. */
struct vf_output *vf_output_stdout_create(int fd);
struct vf_output *vf_output_null_create(void);

static inline bool vf_output_write(struct vf_output *o, const char *msg,
	size_t len)
{
	return o->ops->write(o, msg, len);
}

static inline bool vf_output_flush(struct vf_output *o)
{
	return o->ops->flush(o);
}

void vf_output_destroy(struct vf_output *o);

struct vf_config_output;

/*
 * The output output.type names. NULL, with the reason logged, for a type
 * this build cannot make yet.
 */
struct vf_output *vf_output_create_from_config(const struct vf_config_output *oc);

#endif
