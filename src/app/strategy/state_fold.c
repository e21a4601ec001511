#include "app/strategy/state_fold.h"

#include <string.h>

bool state_change_folds(const state_change *earlier, const state_change *later) {
    const condition *a = &earlier->c, *b = &later->c;
    return a->id == b->id && a->round == b->round && a->entry == b->entry && a->filled_qty == b->filled_qty &&
           !a->is_exited;
}

void state_fold_into(state_change *earlier, const state_change *later) {
    bool keep_note = !later->has_note && earlier->has_note;
    char note[sizeof earlier->note];
    if (keep_note) memcpy(note, earlier->note, sizeof note);
    *earlier = *later;
    if (keep_note) {
        memcpy(earlier->note, note, sizeof note);
        earlier->has_note = true;
    }
}
