/* Command-line scanning, usage errors and number formatting for the sinter command. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

void cli_args_init(CliArgs *a, const char *verb, int argc, char **argv)
{
    a->verb = verb;
    a->argc = argc;
    a->argv = argv;
    a->i = 0;
    a->options_done = false;
}

bool cli_next(CliArgs *a)
{
    a->i++;
    if (a->i < a->argc && !a->options_done && !strcmp(a->argv[a->i], "--")) {
        a->options_done = true;
        a->i++;
    }
    return a->i < a->argc;
}

static bool is_option(const CliArgs *a)
{
    const char *s = a->argv[a->i];
    return !a->options_done && s[0] == '-' && s[1] != '\0';
}

bool cli_flag(CliArgs *a, const char *name)
{
    return is_option(a) && !strcmp(a->argv[a->i], name);
}

bool cli_option(CliArgs *a, const char *name, const char *what, const char **val)
{
    if (!is_option(a))
        return false;
    const char *s = a->argv[a->i];
    size_t len = strlen(name);
    if (strncmp(s, name, len) != 0)
        return false;
    if (s[len] == '=' && name[1] == '-') {   /* --name=value */
        *val = s + len + 1;
        return true;
    }
    if (s[len] != '\0' && name[1] != '-') {  /* -oFILE */
        *val = s + len;
        return true;
    }
    if (s[len] != '\0')
        return false;
    if (a->i + 1 >= a->argc) {
        *val = NULL;
        cli_usage_error(a->verb, "%s expects %s", name, what);
        return true;
    }
    *val = a->argv[++a->i];
    return true;
}

bool cli_positional(CliArgs *a, const char **val)
{
    if (is_option(a))
        return false;
    *val = a->argv[a->i];
    return true;
}

int cli_edit_distance(const char *x, const char *y)
{
    size_t n = strlen(x), m = strlen(y);
    if (n > 63 || m > 63)
        return 64;
    int prev[64], cur[64];
    for (size_t j = 0; j <= m; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int best = prev[j - 1] + (x[i - 1] != y[j - 1]);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            cur[j] = best;
        }
        memcpy(prev, cur, sizeof cur);
    }
    return prev[m];
}

int cli_unknown(const CliArgs *a, const char *const *known)
{
    const char *s = a->argv[a->i];
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)strcspn(s, "="), s);
    const char *best = NULL;
    int best_d = 3;   /* suggest only close matches */
    for (int k = 0; known && known[k]; k++) {
        int d = cli_edit_distance(key, known[k]);
        if (d < best_d) {
            best_d = d;
            best = known[k];
        }
    }
    if (best)
        return cli_usage_error(a->verb, "unknown option %s (did you mean %s?)", key, best);
    return cli_usage_error(a->verb, "unknown option %s", key);
}

static void vreport(const char *verb, const char *fmt, va_list ap)
{
    if (verb)
        fprintf(stderr, "sinter %s: ", verb);
    else
        fprintf(stderr, "sinter: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(verb, fmt, ap);
    va_end(ap);
    if (verb)
        fprintf(stderr, "try 'sinter %s --help'\n", verb);
    else
        fprintf(stderr, "try 'sinter --help'\n");
    return CLI_EUSAGE;
}

int cli_input_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(verb, fmt, ap);
    va_end(ap);
    return CLI_EINPUT;
}

bool cli_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!s || !*s || (s[0] != '-' && (s[0] < '0' || s[0] > '9')))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

bool cli_has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

bool cli_is_library(const char *path)
{
    bool named = cli_has_suffix(path, ".so") || strstr(path, ".so.");
    unsigned char head[64];
    FILE *f = fopen(path, "rb");
    if (!f)
        return named;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n >= 4 && !memcmp(head, "\177ELF", 4))
        return true;
    /* not ELF: a model, unless it is named like a library and does not start like JSON (then the
     * loader says why it is not a library) */
    size_t i = 0;
    while (i < n && strchr(" \t\r\n", head[i]))
        i++;
    return named && !(i < n && head[i] == '{');
}

/* ---- number formatting ------------------------------------------------------------ */

const char *cli_fmt_count(int64_t v, char *buf, size_t len)
{
    char digits[32];
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int nd = snprintf(digits, sizeof digits, "%llu", (unsigned long long)u);
    char tmp[48];
    size_t o = 0;
    if (v < 0)
        tmp[o++] = '-';
    for (int i = 0; i < nd; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            tmp[o++] = ',';
        tmp[o++] = digits[i];
    }
    tmp[o] = '\0';
    snprintf(buf, len, "%s", tmp);
    return buf;
}

const char *cli_fmt_bytes(double bytes, char *buf, size_t len)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= (u == 0 ? 1024.0 : 1023.95) && u < 4) {   /* no "1024.0 KiB" */
        bytes /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f B", bytes);
    else
        snprintf(buf, len, "%.1f %s", bytes, unit[u]);
    return buf;
}

const char *cli_fmt_si(double v, char *buf, size_t len)
{
    static const char *const unit[] = {"", "K", "M", "G", "T", "P"};
    int u = 0;
    while (v >= (u == 0 ? 1000.0 : 999.95) && u < 5) {   /* no "1000.0 K" */
        v /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f ", v);
    else
        snprintf(buf, len, "%.1f %s", v, unit[u]);
    return buf;
}
