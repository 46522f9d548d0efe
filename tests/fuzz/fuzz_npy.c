/* libFuzzer target: srt_npy_parse on arbitrary bytes must not crash, leak or break its invariants. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runtime/sinter_rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SrtTensor t;
    char err[256];
    if (srt_npy_parse(data, size, &t, err, sizeof err) != SINTER_OK) {
        if (t.name != NULL || t.data != NULL || memchr(err, 0, sizeof err) == NULL)
            __builtin_trap();
        return 0;
    }
    size_t n;
    if (!t.name || t.name[0] || !t.data || srt_tensor_nbytes(t.dtype, t.rank, t.dims, &n) != SINTER_OK ||
        n != t.nbytes || n > size)
        __builtin_trap();
    srt_tensor_free(&t);
    return 0;
}
