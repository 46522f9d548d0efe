/* Sliding-window geometry shared by the reference kernels of Conv, ConvTranspose, the pools and
 * their gradients: kernel, strides, dilations, resolved padding and the tap table. */
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"

void ir_ints_or(const IrNode *n, const char *name, int count, int64_t def, int64_t *out)
{
    const int64_t *v;
    int c = ir_attr_ints(n, name, &v);
    for (int i = 0; i < count; i++)
        out[i] = c == count ? v[i] : def;
}

int ir_win_init(const IrNode *n, int nsp, const int64_t *kernel, bool use_dil, IrWin *w)
{
    memset(w, 0, sizeof *w);
    w->nsp = nsp;
    if (kernel)
        memcpy(w->k, kernel, (size_t)nsp * sizeof(int64_t));
    else
        ir_ints_or(n, "kernel_shape", nsp, 1, w->k);
    ir_ints_or(n, "strides", nsp, 1, w->s);
    if (use_dil)
        ir_ints_or(n, "dilations", nsp, 1, w->dil);
    else
        for (int i = 0; i < nsp; i++)
            w->dil[i] = 1;
    w->ktotal = ir_dims_prod(w->k, 0, nsp);
    w->taps = srt_malloc((size_t)(w->ktotal * nsp + 1) * sizeof(int64_t));
    if (!w->taps)
        return -1;
    for (int64_t t = 0; t < w->ktotal; t++)
        ir_unravel(t, nsp, w->k, w->taps + t * nsp);
    return 0;
}

int64_t ir_win_extent(const IrWin *w, int i)
{
    return (w->k[i] - 1) * w->dil[i] + 1;
}

void ir_win_forward_pads(const IrNode *n, const int64_t *in_dims, IrWin *w)
{
    int nsp = w->nsp;
    const char *ap = ir_attr_str(n, "auto_pad");
    int64_t pads[2 * IR_MAX_RANK];
    ir_ints_or(n, "pads", 2 * nsp, 0, pads);
    for (int i = 0; i < nsp; i++) {
        int64_t in = in_dims[i];
        if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
            int64_t outs = (in + w->s[i] - 1) / w->s[i];
            int64_t total = (outs - 1) * w->s[i] + ir_win_extent(w, i) - in;
            if (total < 0)
                total = 0;
            w->pb[i] = !strcmp(ap, "SAME_UPPER") ? total / 2 : total - total / 2;
            w->pe[i] = total - w->pb[i];
        } else if (!strcmp(ap, "VALID")) {
            w->pb[i] = w->pe[i] = 0;
        } else {
            w->pb[i] = pads[i];
            w->pe[i] = pads[nsp + i];
        }
    }
}

int ir_win_init_pads(const IrNode *n, int nsp, const int64_t *kernel, const int64_t *in_dims, IrWin *w)
{
    if (ir_win_init(n, nsp, kernel, ir_op_attr_spec(n->op, "dilations") != NULL, w) != 0)
        return -1;
    ir_win_forward_pads(n, in_dims, w);
    return 0;
}

void ir_win_offsets(const IrWin *w, const int64_t *in_dims, const int64_t *oidx, int64_t *offs)
{
    for (int64_t t = 0; t < w->ktotal; t++) {
        int64_t off = 0;
        for (int i = 0; i < w->nsp; i++) {
            int64_t p = oidx[i] * w->s[i] + w->taps[t * w->nsp + i] * w->dil[i] - w->pb[i];
            if (p < 0 || p >= in_dims[i]) {
                off = -1;
                break;
            }
            off = off * in_dims[i] + p;
        }
        offs[t] = off;
    }
}
