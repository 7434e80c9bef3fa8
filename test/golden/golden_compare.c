/*
 * golden_compare: run `vpcflowd replay` on one golden case and compare its
 * output, field by field, with the case's expected files.
 *
 *   golden_compare VPCFLOWD CASE_DIR
 *
 * CASE_DIR holds:
 *   args             arguments after `replay`, one per line; "@DIR@" is
 *                    replaced by CASE_DIR; blank lines are ignored
 *   expected.jsonl   the expected GELF documents, one JSON object per line,
 *                    in output order (blank lines are ignored)
 *   expected.summary key=value counters expected on the stderr summary line
 *                    (e.g. "records=1 flows=2 errors=0"); optional
 *   expected.status  expected exit status (default 0); optional
 *   stdin            fed to the program's stdin (default /dev/null); optional
 *
 * Every stdout line is also checked against the rules Graylog applies to a
 * GELF payload (see test/golden/README.md).
 *
 * Exit status: 0 pass, 1 fail, 77 (skip) when VPCFLOWD does not exist.
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define EXIT_SKIP 77
#define REAL_TOLERANCE 1e-6
#define RUN_TIMEOUT_SECONDS 120
#define STDERR_SHOWN_MAX 8192

struct buf {
    char *p;
    size_t n;
    size_t cap;
};

/* A document read from a JSONL stream: the parsed value (NULL when the line
 * is not valid JSON) and the line number it came from. */
struct doc {
    json_t *v;
    size_t line;
};

struct doclist {
    struct doc *d;
    size_t n;
    size_t cap;
};

static unsigned failures;

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void fail(const char *fmt, ...);

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    failures++;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("golden_compare: out of memory\n", stderr);
        exit(1);
    }
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xrealloc(NULL, n);
    memcpy(p, s, n);
    return p;
}

static void buf_add(struct buf *b, const char *data, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/* Reads a whole file; returns -1 (errno set) when it cannot be opened. */
static int read_file(const char *path, struct buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char tmp[8192];
    size_t r;
    buf_add(b, "", 0);
    while ((r = fread(tmp, 1, sizeof tmp, f)) > 0)
        buf_add(b, tmp, r);
    int err = ferror(f);
    fclose(f);
    if (err) {
        errno = EIO;
        return -1;
    }
    return 0;
}

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xrealloc(NULL, n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Replaces every "@DIR@" in s by dir. */
static char *substitute_dir(const char *s, const char *dir)
{
    static const char token[] = "@DIR@";
    struct buf out = {0};
    buf_add(&out, "", 0);
    for (;;) {
        const char *hit = strstr(s, token);
        if (!hit) {
            buf_add(&out, s, strlen(s));
            break;
        }
        buf_add(&out, s, (size_t)(hit - s));
        buf_add(&out, dir, strlen(dir));
        s = hit + sizeof token - 1;
    }
    return out.p;
}

/* ---- running the program ---------------------------------------------- */

struct run_result {
    struct buf out;
    struct buf err;
    int status; /* from waitpid */
    bool timed_out;
};

static int set_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

/* Runs argv with stdin from stdin_path, capturing stdout and stderr. */
static int run_program(char **argv, const char *stdin_path, struct run_result *res)
{
    int outp[2], errp[2];
    if (pipe(outp) != 0 || pipe(errp) != 0) {
        perror("golden_compare: pipe");
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        set_cloexec(outp[i]);
        set_cloexec(errp[i]);
    }

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, stdin_path, O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);

    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(outp[1]);
    close(errp[1]);
    if (rc != 0) {
        fprintf(stdout, "FAIL: cannot run %s: %s\n", argv[0], strerror(rc));
        close(outp[0]);
        close(errp[0]);
        return -1;
    }

    buf_add(&res->out, "", 0);
    buf_add(&res->err, "", 0);
    struct pollfd pfd[2] = {
        {.fd = outp[0], .events = POLLIN},
        {.fd = errp[0], .events = POLLIN},
    };
    struct buf *dest[2] = {&res->out, &res->err};
    int open_fds = 2;
    time_t deadline = time(NULL) + RUN_TIMEOUT_SECONDS;
    while (open_fds > 0) {
        time_t now = time(NULL);
        if (now >= deadline) {
            res->timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        int pr = poll(pfd, 2, (int)(deadline - now) * 1000);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            perror("golden_compare: poll");
            kill(pid, SIGKILL);
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char tmp[65536];
            ssize_t r = read(pfd[i].fd, tmp, sizeof tmp);
            if (r > 0) {
                buf_add(dest[i], tmp, (size_t)r);
            } else if (r == 0 || errno != EINTR) {
                close(pfd[i].fd);
                pfd[i].fd = -1;
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (pfd[i].fd >= 0)
            close(pfd[i].fd);
    while (waitpid(pid, &res->status, 0) < 0) {
        if (errno != EINTR) {
            perror("golden_compare: waitpid");
            return -1;
        }
    }
    return 0;
}

/* ---- JSON helpers -------------------------------------------------------- */

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "real";
    case JSON_TRUE: return "boolean";
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* Returns a malloc'ed compact JSON text of v. */
static char *show(const json_t *v)
{
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(16));
    return s ? s : xstrdup("<unprintable>");
}

static bool values_equal(const json_t *a, const json_t *b)
{
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_INTEGER:
        return json_integer_value(a) == json_integer_value(b);
    case JSON_REAL:
    {
        double d = json_real_value(a) - json_real_value(b);
        return (d < 0 ? -d : d) <= REAL_TOLERANCE;
    }
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    default:
        return json_equal((json_t *)a, (json_t *)b) != 0;
    }
}

/* Splits text into lines and parses each as JSON. Empty lines are skipped
 * (and reported as failures when report_empty is set); a line that is not
 * valid JSON is reported and kept as a NULL document, so that the documents
 * after it keep their index. `what` names the stream in messages. */
static void parse_jsonl(const char *text, size_t len, const char *what, bool report_empty,
                        struct doclist *out)
{
    size_t line = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        line++;
        size_t n = (size_t)(eol - p);
        bool blank = true;
        for (size_t i = 0; i < n; i++)
            if (!isspace((unsigned char)p[i]))
                blank = false;
        if (blank) {
            if (report_empty)
                fail("%s line %zu: empty line (every line must be one GELF document)", what,
                     line);
            p = nl ? nl + 1 : end;
            continue;
        }
        json_error_t err;
        json_t *v = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
        if (!v)
            fail("%s line %zu: not valid JSON (%s at column %d): %.*s", what, line, err.text,
                 err.column, (int)(n > 300 ? 300 : n), p);
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 16;
            out->d = xrealloc(out->d, out->cap * sizeof *out->d);
        }
        out->d[out->n].v = v;
        out->d[out->n].line = line;
        out->n++;
        p = nl ? nl + 1 : end;
    }
}

/* ---- Graylog's GELF rules ----------------------------------------------- */

static bool blank_string(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

static bool valid_additional_key(const char *k)
{
    if (k[0] != '_' || k[1] == '\0')
        return false;
    for (const char *c = k + 1; *c; c++) {
        if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '.' || *c == '@' || *c == '-'))
            return false;
    }
    return true;
}

static void check_gelf(const json_t *doc, size_t idx)
{
    if (!json_is_object(doc)) {
        fail("doc %zu: GELF: the document is a JSON %s, not an object", idx, type_name(doc));
        return;
    }
    const json_t *v = json_object_get(doc, "version");
    if (!v)
        fail("doc %zu: GELF: missing \"version\"", idx);
    else if (!json_is_string(v) || strcmp(json_string_value(v), "1.1") != 0) {
        char *s = show(v);
        fail("doc %zu: GELF: \"version\" must be the string \"1.1\", got %s", idx, s);
        free(s);
    }
    static const char *const required[] = {"host", "short_message"};
    for (size_t i = 0; i < 2; i++) {
        v = json_object_get(doc, required[i]);
        if (!v)
            fail("doc %zu: GELF: missing \"%s\"", idx, required[i]);
        else if (!json_is_string(v))
            fail("doc %zu: GELF: \"%s\" must be a string, got %s", idx, required[i], type_name(v));
        else if (blank_string(v))
            fail("doc %zu: GELF: \"%s\" is empty", idx, required[i]);
    }
    v = json_object_get(doc, "timestamp");
    if (v) {
        if (!json_is_number(v))
            fail("doc %zu: GELF: \"timestamp\" must be a number, got %s", idx, type_name(v));
        else if (json_number_value(v) <= 0)
            fail("doc %zu: GELF: \"timestamp\" <= 0 (Graylog replaces it with the receive time)",
                 idx);
    }

    const char *key;
    json_t *val;
    json_object_foreach((json_t *)doc, key, val) {
        if (!strcmp(key, "version") || !strcmp(key, "host") || !strcmp(key, "short_message") ||
            !strcmp(key, "timestamp"))
            continue;
        if (!valid_additional_key(key))
            fail("doc %zu: GELF: key \"%s\" is not an additional field (^_[A-Za-z0-9_.@-]+$)",
                 idx, key);
        else if (!strcmp(key, "_id"))
            fail("doc %zu: GELF: key \"_id\" must not be sent", idx);
        switch (json_typeof(val)) {
        case JSON_TRUE:
        case JSON_FALSE:
            fail("doc %zu: GELF: field %s is a JSON boolean (Graylog drops it; use \"true\"/\"false\")",
                 idx, key);
            break;
        case JSON_NULL:
            fail("doc %zu: GELF: field %s is null (Graylog drops it)", idx, key);
            break;
        case JSON_ARRAY:
        case JSON_OBJECT:
            fail("doc %zu: GELF: field %s is a JSON %s (Graylog stores it as a JSON string)", idx,
                 key, type_name(val));
            break;
        case JSON_STRING:
            if (blank_string(val))
                fail("doc %zu: GELF: field %s is an empty string (Graylog does not store it)",
                     idx, key);
            break;
        default:
            break;
        }
    }
}

/* ---- comparison ----------------------------------------------------------- */

static const char *context_of(const json_t *doc)
{
    const json_t *sm = json_object_get(doc, "short_message");
    return json_is_string(sm) ? json_string_value(sm) : "";
}

static void compare_doc(size_t idx, const json_t *exp, const json_t *act)
{
    unsigned before = failures;
    const char *key;
    json_t *ev;
    json_object_foreach((json_t *)exp, key, ev) {
        json_t *av = json_object_get(act, key);
        char *es = show(ev);
        if (!av) {
            fail("doc %zu: missing key %s (expected %s %s)", idx, key, type_name(ev), es);
        } else if (json_typeof(av) != json_typeof(ev) &&
                   !(json_is_boolean(av) && json_is_boolean(ev))) {
            char *as = show(av);
            fail("doc %zu: field %s: type differs: expected %s %s, got %s %s", idx, key,
                 type_name(ev), es, type_name(av), as);
            free(as);
        } else if (!values_equal(ev, av)) {
            char *as = show(av);
            fail("doc %zu: field %s: expected %s, got %s", idx, key, es, as);
            free(as);
        }
        free(es);
    }
    json_t *av;
    json_object_foreach((json_t *)act, key, av) {
        if (!json_object_get(exp, key)) {
            char *as = show(av);
            fail("doc %zu: unexpected key %s = %s %s", idx, key, type_name(av), as);
            free(as);
        }
    }
    if (failures != before)
        printf("      (doc %zu is expected.jsonl's \"%s\")\n", idx, context_of(exp));
}

static void compare_docs(const struct doclist *exp, const struct doclist *act)
{
    size_t n = exp->n < act->n ? exp->n : act->n;
    for (size_t i = 0; i < n; i++) {
        if (!exp->d[i].v || !act->d[i].v)
            continue; /* already reported as a parse error */
        if (!json_is_object(act->d[i].v) || !json_is_object(exp->d[i].v))
            continue; /* reported by check_gelf / load_expected */
        compare_doc(i, exp->d[i].v, act->d[i].v);
    }
    if (exp->n != act->n) {
        fail("expected %zu documents, got %zu", exp->n, act->n);
        for (size_t i = n; i < exp->n; i++)
            printf("      missing doc %zu: \"%s\"\n", i,
                   exp->d[i].v ? context_of(exp->d[i].v) : "");
        for (size_t i = n; i < act->n; i++)
            printf("      extra doc %zu: \"%s\"\n", i,
                   act->d[i].v && json_is_object(act->d[i].v) ? context_of(act->d[i].v) : "");
    }
}

/* Returns the value of key in a whitespace-separated list of key=value tokens
 * (malloc'ed), or NULL. */
static char *token_value(const char *line, size_t len, const char *key)
{
    size_t klen = strlen(key);
    size_t i = 0;
    while (i < len) {
        while (i < len && isspace((unsigned char)line[i]))
            i++;
        size_t start = i;
        while (i < len && !isspace((unsigned char)line[i]))
            i++;
        size_t tlen = i - start;
        if (tlen > klen && line[start + klen] == '=' && memcmp(line + start, key, klen) == 0) {
            size_t vlen = tlen - klen - 1;
            char *v = xrealloc(NULL, vlen + 1);
            memcpy(v, line + start + klen + 1, vlen);
            v[vlen] = '\0';
            return v;
        }
    }
    return NULL;
}

/* Finds the last stderr line that holds records=, flows= and errors=. */
static const char *find_summary(const struct buf *err, size_t *len)
{
    const char *found = NULL;
    const char *p = err->p, *end = err->p + err->n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t n = (size_t)(eol - p);
        char *r = token_value(p, n, "records");
        char *f = token_value(p, n, "flows");
        char *e = token_value(p, n, "errors");
        if (r && f && e) {
            found = p;
            *len = n;
        }
        free(r);
        free(f);
        free(e);
        p = nl ? nl + 1 : end;
    }
    return found;
}

static void compare_summary(const char *case_dir, const struct buf *err)
{
    char *path = path_join(case_dir, "expected.summary");
    struct buf exp = {0};
    if (read_file(path, &exp) != 0) {
        if (errno != ENOENT)
            fail("cannot read %s: %s", path, strerror(errno));
        free(path);
        return;
    }
    size_t slen = 0;
    const char *sline = find_summary(err, &slen);
    if (!sline) {
        fail("no summary line (records=N flows=N errors=N ...) on stderr");
        free(path);
        free(exp.p);
        return;
    }
    size_t i = 0;
    while (i < exp.n) {
        while (i < exp.n && isspace((unsigned char)exp.p[i]))
            i++;
        size_t start = i;
        while (i < exp.n && !isspace((unsigned char)exp.p[i]))
            i++;
        if (i == start)
            break;
        char *tok = xrealloc(NULL, i - start + 1);
        memcpy(tok, exp.p + start, i - start);
        tok[i - start] = '\0';
        char *eq = strchr(tok, '=');
        if (!eq) {
            fail("%s: token \"%s\" is not key=value", path, tok);
        } else {
            *eq = '\0';
            char *got = token_value(sline, slen, tok);
            if (!got)
                fail("summary: %s missing (expected %s) in \"%.*s\"", tok, eq + 1, (int)slen,
                     sline);
            else if (strcmp(got, eq + 1) != 0)
                fail("summary: %s: expected %s, got %s", tok, eq + 1, got);
            free(got);
        }
        free(tok);
    }
    free(path);
    free(exp.p);
}

static int expected_status(const char *case_dir)
{
    char *path = path_join(case_dir, "expected.status");
    struct buf b = {0};
    int status = 0;
    if (read_file(path, &b) == 0) {
        char *endp;
        long v = strtol(b.p, &endp, 10);
        if (endp == b.p || v < 0 || v > 255)
            fail("%s: not an exit status", path);
        else
            status = (int)v;
    }
    free(b.p);
    free(path);
    return status;
}

/* ---- main ------------------------------------------------------------------ */

static char **load_args(const char *bin, const char *case_dir, size_t *argc_out)
{
    char *path = path_join(case_dir, "args");
    struct buf b = {0};
    if (read_file(path, &b) != 0) {
        fail("cannot read %s: %s", path, strerror(errno));
        free(path);
        return NULL;
    }
    free(path);
    size_t cap = 8, argc = 0;
    char **argv = xrealloc(NULL, cap * sizeof *argv);
    argv[argc++] = xstrdup(bin);
    argv[argc++] = xstrdup("replay");
    char *p = b.p, *end = b.p + b.n;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        if (eol > p && eol[-1] == '\r')
            eol[-1] = '\0';
        *eol = '\0';
        if (*p) {
            if (argc + 2 > cap) {
                cap *= 2;
                argv = xrealloc(argv, cap * sizeof *argv);
            }
            argv[argc++] = substitute_dir(p, case_dir);
        }
        p = nl ? nl + 1 : end;
    }
    argv[argc] = NULL;
    free(b.p);
    *argc_out = argc;
    return argv;
}

static void print_command(char **argv)
{
    printf("command:");
    for (size_t i = 0; argv[i]; i++)
        printf(" '%s'", argv[i]);
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s VPCFLOWD CASE_DIR\n", argv[0]);
        return 1;
    }
    const char *bin = argv[1];
    const char *case_dir = argv[2];
    setvbuf(stdout, NULL, _IOLBF, 0);

    struct stat st;
    if (stat(bin, &st) != 0 || !S_ISREG(st.st_mode) || access(bin, X_OK) != 0) {
        printf("SKIP: %s: binary not found or not executable\n", bin);
        return EXIT_SKIP;
    }

    size_t nargs = 0;
    char **cmd = load_args(bin, case_dir, &nargs);
    if (!cmd)
        return 1;
    int want_status = expected_status(case_dir);

    /* Expected documents. */
    char *exp_path = path_join(case_dir, "expected.jsonl");
    struct buf expbuf = {0};
    struct doclist exp = {0};
    if (read_file(exp_path, &expbuf) != 0) {
        fail("cannot read %s: %s", exp_path, strerror(errno));
    } else {
        unsigned before = failures;
        parse_jsonl(expbuf.p, expbuf.n, "expected.jsonl", false, &exp);
        for (size_t i = 0; i < exp.n; i++)
            if (exp.d[i].v && !json_is_object(exp.d[i].v))
                fail("expected.jsonl line %zu: not a JSON object", exp.d[i].line);
        if (failures != before)
            printf("note: the case itself is broken (%s)\n", exp_path);
    }

    char *stdin_path = path_join(case_dir, "stdin");
    if (access(stdin_path, R_OK) != 0) {
        free(stdin_path);
        stdin_path = xstrdup("/dev/null");
    }
    print_command(cmd);
    if (strcmp(stdin_path, "/dev/null") != 0)
        printf("stdin: %s\n", stdin_path);
    struct run_result res = {0};
    if (run_program(cmd, stdin_path, &res) != 0)
        return 1;
    free(stdin_path);

    if (res.timed_out)
        fail("the program did not finish within %d s and was killed", RUN_TIMEOUT_SECONDS);
    else if (WIFSIGNALED(res.status))
        fail("the program was killed by signal %d", WTERMSIG(res.status));
    else if (WIFEXITED(res.status) && WEXITSTATUS(res.status) != want_status)
        fail("exit status: expected %d, got %d", want_status, WEXITSTATUS(res.status));

    struct doclist act = {0};
    parse_jsonl(res.out.p, res.out.n, "stdout", true, &act);
    for (size_t i = 0; i < act.n; i++)
        if (act.d[i].v)
            check_gelf(act.d[i].v, i);

    compare_docs(&exp, &act);
    compare_summary(case_dir, &res.err);

    if (failures) {
        printf("---- stderr of the program%s ----\n",
               res.err.n > STDERR_SHOWN_MAX ? " (first 8 KiB)" : "");
        fwrite(res.err.p, 1, res.err.n > STDERR_SHOWN_MAX ? STDERR_SHOWN_MAX : res.err.n, stdout);
        if (res.err.n && res.err.p[res.err.n - 1] != '\n')
            fputc('\n', stdout);
        printf("---- %u difference(s): %s FAILED ----\n", failures, case_dir);
    } else {
        printf("PASS: %zu document(s) match (%s)\n", act.n, case_dir);
    }

    for (size_t i = 0; i < exp.n; i++)
        json_decref(exp.d[i].v);
    for (size_t i = 0; i < act.n; i++)
        json_decref(act.d[i].v);
    free(exp.d);
    free(act.d);
    free(expbuf.p);
    free(exp_path);
    free(res.out.p);
    free(res.err.p);
    for (size_t i = 0; i < nargs; i++)
        free(cmd[i]);
    free(cmd);
    return failures ? 1 : 0;
}
