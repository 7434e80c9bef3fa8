/*
 * A loopback GELF sink for the output benchmarks: takes messages as fast
 * as it can and counts them, without checking them (the test suite's
 * receiver checks; this one must not be the bottleneck).
 *
 *	gelf_sink tcp|udp|http PORT
 *
 * Prints "listening" once ready, and "messages=N bytes=N" when its stdin
 * closes or SIGTERM comes. tcp counts NUL-terminated frames; udp counts
 * datagrams that are not chunks plus the last chunk of each message (the
 * one whose sequence number is count - 1); http answers 202 to each POST.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONN 64

static volatile sig_atomic_t done;
static unsigned long long messages, bytes;

static void on_term(int sig)
{
	(void)sig;
	done = 1;
}

struct conn {
	int fd;
	char *buf;          /* http: request bytes not yet parsed */
	size_t len;
};

static int listen_on(int type, unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, type, 0), one = 1, big = 8 << 20;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	if (type == SOCK_STREAM && listen(fd, 16) != 0)
		return -1;
	return fd;
}

static void count_udp(const unsigned char *p, ssize_t n)
{
	if (n >= 12 && p[0] == 0x1e && p[1] == 0x0f) {
		if (p[10] + 1 == p[11])
			messages++;
	} else {
		messages++;
	}
	bytes += (unsigned long long)n;
}

/* Parses whole requests in c->buf, answering 202 to each. */
static void http_requests(struct conn *c)
{
	static const char ok[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
	size_t off = 0;

	for (;;) {
		char *end = memmem(c->buf + off, c->len - off, "\r\n\r\n", 4);
		char *cl;
		size_t body = 0, total;

		if (end == NULL)
			break;
		*end = '\0';
		cl = strcasestr(c->buf + off, "\ncontent-length:");
		if (cl != NULL)
			body = strtoul(cl + 16, NULL, 10);
		*end = '\r';
		total = (size_t)(end + 4 - (c->buf + off)) + body;
		if (c->len - off < total)
			break;
		messages++;
		bytes += body;
		off += total;
		if (write(c->fd, ok, sizeof(ok) - 1) < 0)
			break;
	}
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
}

int main(int argc, char **argv)
{
	struct pollfd pfd[MAX_CONN + 2];
	struct conn conns[MAX_CONN];
	size_t n_conns = 0;
	static unsigned char buf[1 << 20];
	int mode, lfd;
	struct sigaction sa;

	if (argc != 3) {
		fprintf(stderr, "usage: gelf_sink tcp|udp|http PORT\n");
		return 2;
	}
	mode = strcmp(argv[1], "udp") == 0 ? 1 : strcmp(argv[1], "http") == 0 ? 2 : 0;
	lfd = listen_on(mode == 1 ? SOCK_DGRAM : SOCK_STREAM,
		(unsigned)atoi(argv[2]));
	if (lfd < 0) {
		perror("gelf_sink");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	printf("listening\n");
	fflush(stdout);
	while (!done) {
		size_t n = 0;

		pfd[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (size_t i = 0; i < n_conns; i++)
			pfd[n++] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		if (poll(pfd, n, 1000) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents) {
			ssize_t r = read(0, buf, sizeof(buf));

			if (r <= 0)
				break;
		}
		if (pfd[1].revents & POLLIN) {
			if (mode == 1) {
				for (int k = 0; k < 1024; k++) {
					ssize_t r = recv(lfd, buf, sizeof(buf), MSG_DONTWAIT);

					if (r < 0)
						break;
					count_udp(buf, r);
				}
			} else if (n_conns < MAX_CONN) {
				int fd = accept(lfd, NULL, NULL);

				if (fd >= 0)
					conns[n_conns++] = (struct conn){ fd, NULL, 0 };
			}
		}
		for (size_t i = 0; i < n_conns; i++) {
			struct conn *c = &conns[i];
			ssize_t r;

			if (!(pfd[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (mode == 2) {
				char *nb = realloc(c->buf, c->len + 65536);

				if (nb == NULL)
					return 1;
				c->buf = nb;
				r = read(c->fd, c->buf + c->len, 65536);
				if (r > 0) {
					c->len += (size_t)r;
					http_requests(c);
					continue;
				}
			} else {
				r = read(c->fd, buf, sizeof(buf));
				if (r > 0) {
					for (ssize_t k = 0; k < r; k++)
						messages += buf[k] == '\0';
					bytes += (unsigned long long)r;
					continue;
				}
			}
			close(c->fd);
			free(c->buf);
			conns[i] = conns[--n_conns];
			pfd[2 + i] = pfd[2 + n_conns];
			i--;
		}
	}
	printf("messages=%llu bytes=%llu\n", messages, bytes);
	return 0;
}
