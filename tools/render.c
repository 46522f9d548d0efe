/* Pictures: DOT text rendered to SVG or PNG by Graphviz's `dot`, run without a shell. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "runtime/sinter_rt.h"
#include "tools/cli.h"

extern char **environ;

int cli_find_dot(const char *verb, const char *format, char *path, size_t len)
{
    if (cg_find_program("dot", path, len))
        return CLI_OK;
    return cli_input_error(verb, "--format %s needs Graphviz's dot on PATH (Debian: apt-get install graphviz); "
                           "--format dot prints the DOT text", format);
}

static int write_all(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(text, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

/* Copies the file at path into out; -1 on a read or write error. */
static int copy_into(const char *path, FILE *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = -1;
    if (ferror(f))
        rc = -1;
    fclose(f);
    return rc;
}

/* First line of the file at path (dot's first complaint), "" if none. */
static void first_line(const char *path, char *buf, size_t len)
{
    uint8_t *text = NULL;
    size_t n = 0;
    char err[128];
    buf[0] = '\0';
    if (srt_read_file(path, 1 << 16, &text, &n, err, sizeof err) != SINTER_OK)
        return;
    snprintf(buf, len, "%.*s", (int)strcspn((const char *)text, "\n"), (const char *)text);
    free(text);
}

int cli_render_dot(const char *verb, const char *dot_text, size_t len, const char *format, FILE *out)
{
    char dot[PATH_MAX];
    if (cli_find_dot(verb, format, dot, sizeof dot) != CLI_OK)
        return CLI_EINPUT;
    char dir[PATH_MAX], in[PATH_MAX + 16], pic[PATH_MAX + 16], log[PATH_MAX + 16], type[16];
    const char *td = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/sinter-dot-XXXXXX", td && *td ? td : "/tmp");
    if (!mkdtemp(dir))
        return cli_input_error(verb, "cannot create a temporary folder in %s: %s", td && *td ? td : "/tmp",
                               strerror(errno));
    snprintf(in, sizeof in, "%s/graph.dot", dir);
    snprintf(pic, sizeof pic, "%s/graph.%s", dir, format);
    snprintf(log, sizeof log, "%s/dot.log", dir);
    snprintf(type, sizeof type, "-T%s", format);
    int rc = CLI_OK;
    if (write_all(in, dot_text, len) != 0) {
        rc = cli_input_error(verb, "%s: cannot write: %s", in, strerror(errno));
        goto out;
    }
    char *argv[] = {dot, type, "-o", pic, in, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int err = posix_spawn(&pid, dot, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
        rc = cli_input_error(verb, "cannot run %s: %s", dot, strerror(err));
        goto out;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            rc = cli_input_error(verb, "waiting for %s: %s", dot, strerror(errno));
            goto out;
        }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char msg[512];
        first_line(log, msg, sizeof msg);
        rc = cli_input_error(verb, "%s %s failed: %s", dot, type, *msg ? msg : "no message");
        goto out;
    }
    if (copy_into(pic, out) != 0)
        rc = cli_input_error(verb, "cannot copy the picture %s made", dot);
out:
    unlink(in);
    unlink(pic);
    unlink(log);
    rmdir(dir);
    return rc;
}
