/* Bump allocator that owns a graph's memory; freed all at once. */
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"

typedef struct Chunk {
    struct Chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char mem[];
} Chunk;

struct IrArena {
    Chunk *head;
};

void ir_assert_fail(const char *cond, const char *file, int line)
{
    fprintf(stderr, "sinter: internal error: %s:%d: assertion failed: %s\n", file, line, cond);
    abort();
}

IrArena *ir_arena_new(void)
{
    IrArena *a = srt_calloc(1, sizeof *a);
    IR_ASSERT(a);
    return a;
}

void ir_arena_free(IrArena *a)
{
    if (!a)
        return;
    for (Chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

void *ir_arena_alloc(IrArena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    Chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        size_t cap = size > 65536 ? size : 65536;
        c = srt_malloc(sizeof *c + cap);
        IR_ASSERT(c && "out of memory");
        c->size = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->mem + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *ir_arena_strdup(IrArena *a, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = ir_arena_alloc(a, n);
    memcpy(p, s, n);
    return p;
}

void *ir_arena_memdup(IrArena *a, const void *p, size_t size)
{
    if (!p)
        return NULL;
    void *q = ir_arena_alloc(a, size);
    memcpy(q, p, size);
    return q;
}
