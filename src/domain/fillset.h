/* A set of fill ids, so a fill the broker reports twice is applied once.
 * Open addressing with linear probing; ids are stored inline. Pure data structure: no I/O. */
#ifndef AFTM_FILLSET_H
#define AFTM_FILLSET_H

#include <stdbool.h>
#include <stddef.h>

#define FILLSET_ID_MAX 64 /* ids up to 63 characters */

typedef struct {
    char (*slots)[FILLSET_ID_MAX]; /* an empty string marks a free slot */
    size_t cap;                    /* power of two, or 0 before the first insert */
    size_t count;
} fillset;

typedef enum {
    FILLSET_ADDED = 0,   /* new id, now remembered */
    FILLSET_PRESENT = 1, /* seen before: the fill is a duplicate */
    FILLSET_INVALID = 2, /* NULL, empty or too long id: it cannot be remembered */
    FILLSET_NOMEM = 3,   /* the table could not grow */
} fillset_result;

/* An empty set; it allocates on the first insert. */
void fillset_init(fillset *s);
void fillset_free(fillset *s);

fillset_result fillset_insert(fillset *s, const char *id);

/* true when the id is new (and now remembered), false when it was already present.
 * Also false on FILLSET_INVALID / FILLSET_NOMEM: use fillset_insert to tell those apart. */
bool fillset_add(fillset *s, const char *id);

bool fillset_contains(const fillset *s, const char *id);
size_t fillset_count(const fillset *s);

#endif
