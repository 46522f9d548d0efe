/* A line diff printed as a unified diff. Common prefix and suffix lines are trimmed first, then
 * Myers' greedy O((N+M)D) search finds a shortest edit script on what is left, keeping one
 * furthest-reaching vector per edit distance to trace the script back (O(D^2) memory, small for
 * the IR dumps of one pass). */
#include "runtime/sinter_rt.h"
#include "tools/textdiff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct Line {
    const char *s;
    size_t len;    /* without the newline */
    uint64_t hash;
} Line;

/* Splits text into lines (a last line without '\n' still counts); -1 if memory ran out. */
static int split_lines(const char *text, Line **out, int *n)
{
    int cap = 16, count = 0;
    Line *v = srt_malloc((size_t)cap * sizeof *v);
    if (!v)
        return -1;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (count == cap) {
            cap *= 2;
            Line *nv = srt_realloc(v, (size_t)cap * sizeof *v);
            if (!nv) {
                free(v);
                return -1;
            }
            v = nv;
        }
        uint64_t h = 1469598103934665603ull;   /* FNV-1a */
        for (size_t i = 0; i < len; i++)
            h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
        v[count++] = (Line){p, len, h};
        p += len + (e ? 1 : 0);
    }
    *out = v;
    *n = count;
    return 0;
}

static bool line_eq(const Line *x, const Line *y)
{
    return x->hash == y->hash && x->len == y->len && !memcmp(x->s, y->s, x->len);
}

/* An edit script as one op per step: ' ' keep, '-' delete from a, '+' insert from b. */
typedef struct Script {
    char *op;
    int n;
} Script;

/* Shortest edit script between a[0..n) and b[0..m) (Myers 1986). */
static int myers(const Line *a, int n, const Line *b, int m, Script *s)
{
    int max = n + m;
    s->op = srt_malloc((size_t)max + 1);
    s->n = 0;
    if (!s->op)
        return -1;
    /* trace[d] holds V for k in [-d, d] (index k + d), after step d */
    int **trace = srt_calloc((size_t)max + 1, sizeof *trace);
    if (!trace) {
        free(s->op);
        s->op = NULL;
        return -1;
    }
    int dfound = -1;
    for (int d = 0; d <= max && dfound < 0; d++) {
        int *v = srt_malloc((size_t)(2 * d + 1) * sizeof *v);
        if (!v)
            goto oom;
        trace[d] = v;
        const int *pv = d ? trace[d - 1] : NULL;   /* k in [-(d-1), d-1], index k + d - 1 */
        for (int k = -d; k <= d; k += 2) {
            int x;
            if (d == 0)
                x = 0;
            else if (k == -d || (k != d && pv[k - 1 + d - 1] < pv[k + 1 + d - 1]))
                x = pv[k + 1 + d - 1];       /* down: insert b[y-1] */
            else
                x = pv[k - 1 + d - 1] + 1;   /* right: delete a[x-1] */
            int y = x - k;
            while (x < n && y < m && line_eq(&a[x], &b[y]))
                x++, y++;
            v[k + d] = x;
            if (x >= n && y >= m) {
                dfound = d;
                break;
            }
        }
    }
    /* trace back from (n, m), writing the ops in reverse: each step d > 0 is one edit from
     * diagonal pk of step d-1, then a snake of equal lines to (x, y) */
    int x = n, y = m, len = 0;
    for (int d = dfound; d > 0; d--) {
        int k = x - y;
        const int *pv = trace[d - 1];
        bool down = k == -d || (k != d && pv[k - 1 + d - 1] < pv[k + 1 + d - 1]);
        int pk = down ? k + 1 : k - 1;
        int px = pv[pk + d - 1], py = px - pk;
        int x0 = down ? px : px + 1;
        for (; x > x0; x--, y--)
            s->op[len++] = ' ';
        s->op[len++] = down ? '+' : '-';
        x = px, y = py;
    }
    for (; x > 0; x--)
        s->op[len++] = ' ';
    for (int i = 0; i < len / 2; i++) {
        char t = s->op[i];
        s->op[i] = s->op[len - 1 - i];
        s->op[len - 1 - i] = t;
    }
    s->n = len;
    for (int d = 0; d <= max && trace[d]; d++)
        free(trace[d]);
    free(trace);
    return 0;
oom:
    for (int d = 0; d <= max && trace[d]; d++)
        free(trace[d]);
    free(trace);
    free(s->op);
    s->op = NULL;
    return -1;
}

/* Prints the hunks of script s (over a and b) with `context` lines of context; hunks whose
 * contexts would touch or overlap (at most 2*context equal lines apart) are merged, as diff -u does. */
static void print_hunks(const Script *s, const Line *a, const Line *b, int context, FILE *f)
{
    /* i: the next op; ax, by: the lines of a and b before it */
    int i = 0;
    int ax = 0, by = 0;
    while (i < s->n) {
        /* find the next change */
        int j = i, jx = ax, jy = by;
        while (j < s->n && s->op[j] == ' ')
            j++, jx++, jy++;
        if (j == s->n)
            break;
        /* hunk start: up to `context` lines before the change */
        int back = j - i < context ? j - i : context;
        int hs = j - back, hx = jx - back, hy = jy - back;
        /* extend: the hunk ends when a run of more than 2*context equal lines follows a change */
        int e = j, ex = jx, ey = jy;
        for (;;) {
            while (e < s->n && s->op[e] != ' ') {
                if (s->op[e] == '-')
                    ex++;
                else
                    ey++;
                e++;
            }
            int r = e;
            while (r < s->n && s->op[r] == ' ')
                r++;
            if (r == s->n || r - e > 2 * context) {
                int keep = r - e < context ? r - e : context;
                e += keep, ex += keep, ey += keep;
                break;
            }
            ex += r - e, ey += r - e, e = r;
        }
        int na = ex - hx, nb = ey - hy;
        fprintf(f, "@@ -%d", na ? hx + 1 : hx);
        if (na != 1)
            fprintf(f, ",%d", na);
        fprintf(f, " +%d", nb ? hy + 1 : hy);
        if (nb != 1)
            fprintf(f, ",%d", nb);
        fputs(" @@\n", f);
        int x = hx, y = hy;
        for (int t = hs; t < e; t++) {
            const Line *l = s->op[t] == '+' ? &b[y] : &a[x];
            fputc(s->op[t], f);
            fwrite(l->s, 1, l->len, f);
            fputc('\n', f);
            if (s->op[t] != '+')
                x++;
            if (s->op[t] != '-')
                y++;
        }
        i = e, ax = ex, by = ey;
    }
}

int text_diff(const char *a, const char *b, const char *a_label, const char *b_label, int context, FILE *f,
              bool *changed)
{
    *changed = strcmp(a, b) != 0;
    if (!*changed)
        return 0;
    Line *la = NULL, *lb = NULL;
    int na, nb;
    if (split_lines(a, &la, &na) != 0 || split_lines(b, &lb, &nb) != 0) {
        free(la);
        return -1;
    }
    /* trim the common prefix and suffix; the search runs on the middle, the ops cover all */
    int pre = 0;
    while (pre < na && pre < nb && line_eq(&la[pre], &lb[pre]))
        pre++;
    int suf = 0;
    while (suf < na - pre && suf < nb - pre && line_eq(&la[na - 1 - suf], &lb[nb - 1 - suf]))
        suf++;
    Script mid;
    int rc = myers(la + pre, na - pre - suf, lb + pre, nb - pre - suf, &mid);
    if (rc == 0) {
        Script all = {srt_malloc((size_t)(pre + mid.n + suf) + 1), pre + mid.n + suf};
        if (!all.op) {
            rc = -1;
        } else {
            memset(all.op, ' ', (size_t)all.n);
            memcpy(all.op + pre, mid.op, (size_t)mid.n);
            fprintf(f, "--- %s\n+++ %s\n", a_label, b_label);
            print_hunks(&all, la, lb, context, f);
            free(all.op);
        }
        free(mid.op);
    }
    free(la);
    free(lb);
    return rc;
}
