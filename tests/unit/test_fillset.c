/* The fill-id set: add, duplicate, growth, bad ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "domain/fillset.h"

static void test_add_and_duplicate(void **state) {
    (void)state;
    fillset s;
    fillset_init(&s);
    assert_false(fillset_contains(&s, "F1"));
    assert_true(fillset_add(&s, "F1"));
    assert_false(fillset_add(&s, "F1"));
    assert_int_equal(fillset_insert(&s, "F1"), FILLSET_PRESENT);
    assert_true(fillset_contains(&s, "F1"));
    assert_true(fillset_add(&s, "F2"));
    assert_int_equal(fillset_count(&s), 2);
    /* Ids are case-sensitive: brokers' ids are opaque. */
    assert_true(fillset_add(&s, "f1"));
    assert_int_equal(fillset_count(&s), 3);
    fillset_free(&s);
    assert_int_equal(fillset_count(&s), 0);
    assert_false(fillset_contains(&s, "F1"));
}

static void test_invalid_ids(void **state) {
    (void)state;
    fillset s;
    fillset_init(&s);
    char longid[FILLSET_ID_MAX + 1];
    memset(longid, 'x', FILLSET_ID_MAX);
    longid[FILLSET_ID_MAX] = '\0';
    assert_int_equal(fillset_insert(&s, NULL), FILLSET_INVALID);
    assert_int_equal(fillset_insert(&s, ""), FILLSET_INVALID);
    assert_int_equal(fillset_insert(&s, longid), FILLSET_INVALID);
    assert_false(fillset_add(&s, longid));
    assert_false(fillset_contains(&s, longid));
    /* The longest id that fits is fine. */
    longid[FILLSET_ID_MAX - 1] = '\0';
    assert_int_equal(fillset_insert(&s, longid), FILLSET_ADDED);
    assert_true(fillset_contains(&s, longid));
    assert_int_equal(fillset_count(&s), 1);
    fillset_free(&s);
}

static void test_growth_keeps_everything(void **state) {
    (void)state;
    fillset s;
    fillset_init(&s);
    char id[32];
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "EX-%d", i);
        assert_true(fillset_add(&s, id));
    }
    assert_int_equal(fillset_count(&s), n);
    assert_true(s.count * 4 <= s.cap * 3);
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "EX-%d", i);
        assert_true(fillset_contains(&s, id));
        assert_false(fillset_add(&s, id));
    }
    for (int i = n; i < n + 100; i++) {
        snprintf(id, sizeof id, "EX-%d", i);
        assert_false(fillset_contains(&s, id));
    }
    assert_int_equal(fillset_count(&s), n);
    fillset_free(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_and_duplicate),
        cmocka_unit_test(test_invalid_ids),
        cmocka_unit_test(test_growth_keeps_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
