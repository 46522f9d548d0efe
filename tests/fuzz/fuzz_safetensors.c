/* libFuzzer target: srt_safetensors_parse on arbitrary bytes must not crash, leak or break its invariants. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runtime/sinter_rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SrtTensorFile f;
    char err[256];
    if (srt_safetensors_parse(data, size, &f, err, sizeof err) != SINTER_OK) {
        if (f.count != 0 || f.tensors != NULL || memchr(err, 0, sizeof err) == NULL)
            __builtin_trap();
        return 0;
    }
    size_t total = 0;
    for (int i = 0; i < f.count; i++) {
        const SrtTensor *t = &f.tensors[i];
        size_t n;
        if (!t->name || !t->data || srt_tensor_nbytes(t->dtype, t->rank, t->dims, &n) != SINTER_OK ||
            n != t->nbytes || srt_tensorfile_find(&f, t->name) != t)
            __builtin_trap();
        total += n;
    }
    if (total > size) /* tensors tile the data section, so they cannot exceed the input */
        __builtin_trap();
    srt_tensorfile_free(&f);
    return 0;
}
