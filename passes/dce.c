/* Pass dce: removes nodes none of whose outputs reach a graph output or the training section. */
#include <stdlib.h>

#include "passes/passes.h"

PassResult pass_dce(IrGraph *g, PassContext *ctx)
{
    bool *live = srt_calloc((size_t)g->nvalues + 1, sizeof(bool));
    bool *keep = srt_calloc((size_t)g->nnodes + 1, sizeof(bool));
    IR_ASSERT(live && keep);
    /* roots: graph outputs, values the training section names (update sources, gradients),
     * and the loss's inputs */
    for (int id = 0; id < g->nvalues; id++)
        live[id] = pass_value_pinned(g, id);
    if (g->training && g->training->loss) {
        const IrNode *l = g->training->loss;
        for (int k = 0; k < l->nin; k++)
            if (l->in[k] >= 0)
                live[l->in[k]] = true;
    }
    /* Nodes are in topological order, so one backward sweep reaches every producer. */
    for (int i = g->nnodes - 1; i >= 0; i--) {
        const IrNode *n = g->nodes[i];
        for (int k = 0; k < n->nout && !keep[i]; k++)
            keep[i] = n->out[k] >= 0 && live[n->out[k]];
        if (!keep[i])
            continue;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] >= 0)
                live[n->in[k]] = true;
    }
    int removed = 0;
    for (int i = 0; i < g->nnodes; i++)
        removed += !keep[i];
    int nvalues = g->nvalues;
    /* Compaction also drops values nothing refers to any more (constants merged by cse,
     * unused optional outputs of removed nodes), but never a declared param (pass_compact). */
    pass_compact(g, keep);
    free(live);
    free(keep);
    pass_stat_add(ctx, "nodes removed", removed);
    pass_stat_add(ctx, "values removed", nvalues - g->nvalues);
    return removed || nvalues != g->nvalues ? PASS_CHANGED : PASS_UNCHANGED;
}
