/* Tests of the line diff behind `sinter dump --diff` (tools/textdiff.c, built into this test):
 * exact output on small cases, and on random texts that the hunks apply back to the new text,
 * that the edit script is a shortest one (against an LCS table) and that the context is right. */
#include <stdlib.h>
#include <string.h>

#include "tests/util/testutil.h"
#include "tools/textdiff.c"

/* The diff of a against b with `context` lines, as a string (caller frees). */
static char *diff(const char *a, const char *b, int context, bool *changed)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(text_diff(a, b, "old", "new", context, m, changed), 0);
    ck_assert_int_eq(fclose(m), 0);
    return buf;
}

START_TEST(equal_texts)
{
    bool changed = true;
    char *d = diff("a\nb\n", "a\nb\n", 3, &changed);
    ck_assert(!changed);
    ck_assert_str_eq(d, "");
    free(d);
}
END_TEST

START_TEST(one_change_in_the_middle)
{
    bool changed = false;
    char *d = diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n", 3, &changed);
    ck_assert(changed);
    ck_assert_str_eq(d, "--- old\n+++ new\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
    free(d);
}
END_TEST

START_TEST(insert_at_start_and_delete_at_end)
{
    bool changed = false;
    char *d = diff("a\nb\n", "x\na\n", 1, &changed);
    ck_assert_str_eq(d, "--- old\n+++ new\n@@ -1,2 +1,2 @@\n+x\n a\n-b\n");
    free(d);
    d = diff("", "x\n", 3, &changed);   /* into an empty text: the hunk starts at line 0 */
    ck_assert_str_eq(d, "--- old\n+++ new\n@@ -0,0 +1 @@\n+x\n");
    free(d);
}
END_TEST

START_TEST(far_changes_make_two_hunks)
{
    bool changed = false;
    /* 7 equal lines between the changes: more than 2*3, so two hunks; 6 would merge them */
    char *d = diff("a\n1\n2\n3\n4\n5\n6\n7\nb\n", "A\n1\n2\n3\n4\n5\n6\n7\nB\n", 3, &changed);
    ck_assert_str_eq(d, "--- old\n+++ new\n@@ -1,4 +1,4 @@\n-a\n+A\n 1\n 2\n 3\n@@ -6,4 +6,4 @@\n 5\n 6\n 7\n-b\n+B\n");
    free(d);
    d = diff("a\n1\n2\n3\n4\n5\n6\nb\n", "A\n1\n2\n3\n4\n5\n6\nB\n", 3, &changed);
    ck_assert_str_eq(d, "--- old\n+++ new\n@@ -1,8 +1,8 @@\n-a\n+A\n 1\n 2\n 3\n 4\n 5\n 6\n-b\n+B\n");
    free(d);
}
END_TEST

/* ---- random texts ---- */

#define MAXL 40

static int split(char *text, char **lines)
{
    int n = 0;
    for (char *p = text; *p;) {
        char *e = strchr(p, '\n');
        ck_assert_ptr_nonnull(e);   /* the generated texts end every line */
        *e = '\0';
        ck_assert_int_lt(n, 4 * MAXL);
        lines[n++] = p;
        p = e + 1;
    }
    return n;
}

/* Applies the hunks of diff d to lines a[0..na) and checks the result is b[0..nb), the hunk
 * headers count the lines they hold, hunks carry `context` lines at each end (fewer only at the
 * ends of the text), so more than 2*context unchanged lines lie between two changes in different
 * hunks, and at least one line between the hunks as printed. Returns the
 * number of '-' and '+' lines. */
static int apply(char *d, char **a, int na, char **b, int nb, int context)
{
    char *dl[8 * MAXL + 8];
    int nd = split(d, dl);
    ck_assert_int_ge(nd, 2);
    ck_assert_str_eq(dl[0], "--- old");
    ck_assert_str_eq(dl[1], "+++ new");
    int ax = 0, by = 0, edits = 0, prev_end = -1;
    for (int i = 2; i < nd;) {
        int as, ac = 1, bs, bc = 1;
        ck_assert_msg(sscanf(dl[i], "@@ -%d,%d", &as, &ac) == 2 || sscanf(dl[i], "@@ -%d", &as) == 1, "%s", dl[i]);
        const char *plus = strchr(dl[i], '+');
        ck_assert_ptr_nonnull(plus);
        if (sscanf(plus, "+%d,%d", &bs, &bc) != 2)
            ck_assert_int_eq(sscanf(plus, "+%d", &bs), 1);
        int a0 = ac ? as - 1 : as, b0 = bc ? bs - 1 : bs;
        /* the lines between hunks are equal in both texts */
        ck_assert_int_eq(a0 - ax, b0 - by);
        if (prev_end >= 0)
            ck_assert_int_gt(a0 - ax, 0);   /* else the two would be one hunk */
        for (; ax < a0; ax++, by++)
            ck_assert_str_eq(a[ax], b[by]);
        int lead = 0, trail = 0, seen_edit = 0, ca = 0, cb = 0;
        for (i++; i < nd && dl[i][0] != '@'; i++) {
            char op = dl[i][0];
            const char *text = dl[i] + 1;
            if (op == ' ') {
                ck_assert_int_lt(ax, na);
                ck_assert_int_lt(by, nb);
                ck_assert_str_eq(a[ax], text);
                ck_assert_str_eq(b[by], text);
                ax++, by++, ca++, cb++;
                if (seen_edit)
                    trail++;
                else
                    lead++;
            } else if (op == '-') {
                ck_assert_int_lt(ax, na);
                ck_assert_str_eq(a[ax++], text);
                ca++, edits++, seen_edit = 1, trail = 0;
            } else {
                ck_assert_int_eq(op, '+');
                ck_assert_int_lt(by, nb);
                ck_assert_str_eq(b[by++], text);
                cb++, edits++, seen_edit = 1, trail = 0;
            }
        }
        ck_assert(seen_edit);
        ck_assert_int_eq(ca, ac);
        ck_assert_int_eq(cb, bc);
        /* fewer context lines only where the text starts or ends */
        ck_assert(lead == context || (lead < context && a0 == 0));
        ck_assert(trail == context || (trail < context && ax == na));
        prev_end = ax;
    }
    ck_assert_int_eq(na - ax, nb - by);
    for (; ax < na; ax++, by++)
        ck_assert_str_eq(a[ax], b[by]);
    return edits;
}

static int lcs(char **a, int na, char **b, int nb)
{
    static int t[4 * MAXL + 1][4 * MAXL + 1];
    for (int i = na; i >= 0; i--)
        for (int j = nb; j >= 0; j--)
            t[i][j] = i == na || j == nb ? 0
                      : !strcmp(a[i], b[j]) ? 1 + t[i + 1][j + 1]
                      : t[i + 1][j] > t[i][j + 1] ? t[i + 1][j] : t[i][j + 1];
    return t[0][0];
}

static void random_text(unsigned *seed, char *out, int alphabet)
{
    int n = (int)(rand_r(seed) % MAXL);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        char line[8];
        snprintf(line, sizeof line, "%c\n", 'a' + (int)(rand_r(seed) % (unsigned)alphabet));
        strcat(out, line);
    }
}

START_TEST(random_diffs_apply_and_are_shortest)
{
    unsigned seed = 12345;
    for (int iter = 0; iter < 3000; iter++) {
        char ta[4 * MAXL], tb[4 * MAXL];
        int alphabet = 2 + iter % 5;
        random_text(&seed, ta, alphabet);
        if (iter % 3 == 0) {
            /* b: a with a few lines changed, the shape of a pass's dump */
            strcpy(tb, ta);
            for (int k = 0; k < 3 && tb[0]; k++)
                tb[2 * (rand_r(&seed) % (strlen(tb) / 2))] = 'z';
        } else {
            random_text(&seed, tb, alphabet);
        }
        int context = iter % 4;
        bool changed;
        char *d = diff(ta, tb, context, &changed);
        ck_assert_int_eq(changed, strcmp(ta, tb) != 0);
        if (changed) {
            char ca[4 * MAXL], cb[4 * MAXL], *la[4 * MAXL], *lb[4 * MAXL];
            strcpy(ca, ta);
            strcpy(cb, tb);
            int na = split(ca, la), nb = split(cb, lb);
            int edits = apply(d, la, na, lb, nb, context);
            ck_assert_int_eq(edits, na + nb - 2 * lcs(la, na, lb, nb));
        } else {
            ck_assert_str_eq(d, "");
        }
        free(d);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("textdiff");
    TCase *tc = tcase_create("diff");
    tcase_add_test(tc, equal_texts);
    tcase_add_test(tc, one_change_in_the_middle);
    tcase_add_test(tc, insert_at_start_and_delete_at_end);
    tcase_add_test(tc, far_changes_make_two_hunks);
    tcase_add_test(tc, random_diffs_apply_and_are_shortest);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
