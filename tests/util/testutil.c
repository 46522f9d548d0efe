/* Helpers shared by the Check test programs. */
#include "tests/util/testutil.h"

#include "passes/passes.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *tu_src(const char *rel)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", SINTER_SOURCE_DIR, rel);
    return b;
}

const char *tu_tmpdir(void)
{
    static char bufs[8][64];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "/tmp/sinter-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(b));
    return b;
}

void tu_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    size_t len = strlen(text);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    fclose(f);
}

int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int tu_conformance_cases(const char *file, char **out, int max)
{
    int count = 0;
    const char *root = tu_src("tests/conformance");
    DIR *top = opendir(root);
    if (!top)
        return 0;
    struct dirent *g;
    while ((g = readdir(top))) {
        if (g->d_name[0] == '.')
            continue;
        char gdir[2048];
        if ((size_t)snprintf(gdir, sizeof gdir, "%s/%s", root, g->d_name) >= sizeof gdir)
            continue;
        DIR *sub = opendir(gdir);
        if (!sub)
            continue;
        struct dirent *c;
        while ((c = readdir(sub)) && count < max) {
            if (c->d_name[0] == '.')
                continue;
            char path[4096];
            if ((size_t)snprintf(path, sizeof path, "%s/%s/%s", gdir, c->d_name, file) >= sizeof path)
                continue;
            if (access(path, R_OK) != 0)
                continue;
            size_t len = strlen(gdir) + strlen(c->d_name) + 2;
            out[count] = malloc(len);   /* called before the suite runs: no ck_assert here */
            if (!out[count])
                break;
            snprintf(out[count], len, "%s/%s", gdir, c->d_name);
            count++;
        }
        closedir(sub);
    }
    closedir(top);
    qsort(out, (size_t)count, sizeof out[0], cmp_str);
    return count;
}

IrGraph *tu_training_graph(const IrGraph *g)
{
    if (!g->training)
        return NULL;
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.verify = true;
    IrGraph *tg = pass_training_graph(g, &ctx);
    ck_assert_msg(tg != NULL, "training graph of %s: %s", g->name, ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ir_diag_free(&d);
    return tg;
}
