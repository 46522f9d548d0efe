/* SparseGemm: y = a * w + bias with w as CSR rows (one per output, padded to whole vectors): the stored weights of an output times the activations gathered at their columns. */
#include "codegen/emit.h"

/* One task per range of outputs; for each output and each row of a, a vector loop over the
 * output's stored weights: load V column indices and V values, gather a[row, col] (vgatherdps
 * on AVX2/AVX-512), multiply-add, and reduce the lanes at the end. The rows are padded to a
 * multiple of 16 entries (passes/sparsify.c), so no lane is ever masked. */
int cg_k_sparse_gemm(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *a = cg_kin(k, 0);
    int64_t kdim = a->shape.d[1].b, cols = ir_attr_int(n, "n"), nnz = cg_kin(k, 1)->shape.d[0].b;
    int v = k->target->vector_bits >= 512 ? 16 : 8;
    LLVMTypeRef f32 = cg_t_f32(k), i32 = cg_t_i32(k), i64 = cg_t_i64(k);
    LLVMTypeRef vf = cg_t_vec(f32, v), vi = cg_t_vec(i32, v);
    LLVMTypeRef vp = cg_t_vec(cg_t_ptr(k), v), vb = cg_t_vec(cg_t_i1(k), v);
    LLVMValueRef M = cg_dim(k, a->shape.d[0]);
    LLVMValueRef grain = cg_grain(k, cg_mul(k, M, cg_i64c(k, 2 * (nnz / cols + 1))), CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, cg_i64c(k, cols), grain, 0, NULL);
    M = cg_dim(k, a->shape.d[0]);
    CgLoop lj;
    LLVMValueRef j = cg_loop_begin(k, &lj, p.begin, p.end, 1);
    LLVMValueRef p0 = LLVMBuildSExt(k->b, cg_load(k, i32, k->in[3], j, 4), i64, "");
    LLVMValueRef p1 = LLVMBuildSExt(k->b, cg_load(k, i32, k->in[3], cg_add(k, j, cg_i64c(k, 1)), 4), i64, "");
    LLVMValueRef bias = n->nin > 4 && k->in[4] ? cg_load(k, f32, k->in[4], j, 4) : NULL;
    CgLoop lm;
    LLVMValueRef m = cg_loop_begin(k, &lm, cg_i64c(k, 0), M, 1);
    LLVMValueRef row = cg_gep(k, f32, k->in[0], cg_mul(k, m, cg_i64c(k, kdim)));
    CgLoop lp;
    LLVMValueRef at = cg_loop_begin(k, &lp, p0, p1, v);
    LLVMValueRef acc = cg_loop_carry(k, &lp, cg_fconst(vf, 0));
    /* 32-bit column indices from the row's start: vgatherdps */
    LLVMValueRef idx = cg_load_vec(k, vi, k->in[2], at, 4);
    LLVMValueRef w = cg_load_vec(k, vf, k->in[1], at, 4);
    LLVMValueRef ptrs = LLVMBuildGEP2(k->b, f32, row, &idx, 1, "");
    LLVMTypeRef tys[2] = {vf, vp};
    LLVMValueRef args[4] = {ptrs, cg_i32c(k, 4), cg_iconst(vb, 1), cg_fconst(vf, 0)};
    LLVMValueRef x = cg_intrinsic(k, "llvm.masked.gather", tys, 2, args, 4);
    cg_loop_set(&lp, 0, cg_fma(k, x, w, acc));
    cg_loop_end(k, &lp);
    LLVMValueRef y = cg_reduce_fadd(k, lp.phi[0]);
    if (bias)
        y = LLVMBuildFAdd(k->b, y, bias, "");
    cg_out_store(k, 0, cg_add(k, cg_mul(k, m, cg_i64c(k, cols)), j), y, NULL);
    cg_loop_end(k, &lm);
    cg_loop_end(k, &lj);
    cg_par_end(k, &p);
    return 0;
}
