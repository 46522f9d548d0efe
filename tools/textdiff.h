/* A line diff (Myers' O(ND) algorithm) printed as a unified diff, for `sinter dump --diff`. */
#ifndef SINTER_TOOLS_TEXTDIFF_H
#define SINTER_TOOLS_TEXTDIFF_H

#include <stdbool.h>
#include <stdio.h>

/* Writes the unified diff of text a against text b (hunks with `context` lines around each
 * change, headed by "--- a_label" / "+++ b_label") to f. Writes nothing and sets *changed to
 * false when the texts are equal. Returns -1 if memory ran out (nothing useful written). */
int text_diff(const char *a, const char *b, const char *a_label, const char *b_label, int context, FILE *f,
              bool *changed);

#endif
