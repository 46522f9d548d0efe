/* Helpers shared by the Check test programs. */
#ifndef SINTER_TESTUTIL_H
#define SINTER_TESTUTIL_H

#include <check.h>

#include "ir/ir.h"

/* Absolute path of a file in the source tree: tu_src("examples/mlp.json"). Static buffer
 * rotation: up to 8 results stay valid at once. */
const char *tu_src(const char *rel);
/* A fresh empty temporary directory (removed by nobody; under /tmp). */
const char *tu_tmpdir(void);
/* Write text to path; aborts the test on failure. */
void tu_write_text(const char *path, const char *text);
/* The conformance case folders tests/conformance/<group>/<case> that hold FILE (e.g.
 * "case.json"), sorted, as absolute paths in out[0..max); returns the count. The strings are
 * malloc'ed (free with free()). */
int tu_conformance_cases(const char *file, char **out, int max);
/* The training graph of g (the "training" pipeline on a copy), or NULL when g has no training
 * section; fails the test on error. Free with ir_graph_free. */
IrGraph *tu_training_graph(const IrGraph *g);
/* Run a suite; returns the process exit status (0 when every test passed). */
int tu_run(Suite *s);

#endif
