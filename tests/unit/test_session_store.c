/* The session in the database: login, items, order account, renewal, expiry, logout; the
 * processes table; requests to the supervisor; the use cases' input checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/clock.h"
#include "app/launch/supervisor.h"
#include "store/db.h"
#include "store/session_store.h"
#include "usecase/uc.h"
#include "testkit.h"

typedef struct {
    tk_home dir;
    sqlite3 *db;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    tk_home_make(&f->dir, "session");
    f->db = tk_db_open(&f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    db_close(f->db);
    tk_home_remove(&f->dir);
    free(f);
    return 0;
}

static void test_no_session(void **state) {
    fixture *f = *state;
    session_info s;
    assert_false(session_load(f->db, &s));
    assert_int_equal(session_state_at(&s, clock_wall_s()), SESSION_NONE);
    char why[200], buf[64];
    assert_true(session_entry_blocked(f->db, clock_wall_s(), why, sizeof why));
    assert_string_equal(why, "nobody is logged in");
    assert_false(session_order_account(f->db, buf, sizeof buf));
}

static void test_login_items_account_logout(void **state) {
    fixture *f = *state;
    double now = clock_wall_s();
    bool kept = true;
    assert_true(session_login(f->db, "A123456789", "sim", now, &kept));
    assert_false(kept);
    session_info s;
    assert_true(session_load(f->db, &s));
    assert_int_equal(session_state_at(&s, now), SESSION_ACTIVE);
    assert_string_equal(s.account, "A123456789");
    assert_true(s.expires_at >= now + SESSION_TIMEOUT_S - 1);
    assert_string_equal(s.order_account, "");
    assert_string_equal(s.item_code, "");

    assert_true(session_register_item(f->db, "MXFF5", now));
    assert_true(session_register_item(f->db, "TXFF5", now + 1));
    assert_true(session_register_item(f->db, "MXFF5", now + 2)); /* again: current, listed once */
    char items[SESSION_MAX_ITEMS][SESSION_ITEM_MAX];
    assert_int_equal(session_items(f->db, items, SESSION_MAX_ITEMS), 2);
    assert_string_equal(items[0], "MXFF5");
    assert_string_equal(items[1], "TXFF5");
    const char *accounts[] = {"SIM-0001", "SIM-0002"};
    assert_true(session_select_account(f->db, "SIM-0002", accounts, 2));
    char buf[64];
    assert_true(session_item_code(f->db, buf, sizeof buf));
    assert_string_equal(buf, "MXFF5");
    assert_true(session_order_account(f->db, buf, sizeof buf));
    assert_string_equal(buf, "SIM-0002");
    char why[200];
    assert_false(session_entry_blocked(f->db, now, why, sizeof why));

    assert_true(session_logout(f->db));
    assert_true(session_load(f->db, &s));
    assert_int_equal(session_state_at(&s, now), SESSION_LOGGED_OUT);
    assert_false(session_order_account(f->db, buf, sizeof buf));
    assert_true(session_entry_blocked(f->db, now, why, sizeof why));

    /* the same account again keeps its order account and items */
    assert_true(session_login(f->db, "A123456789", "sim", now, &kept));
    assert_true(kept);
    assert_true(session_order_account(f->db, buf, sizeof buf));
    assert_string_equal(buf, "SIM-0002");
    assert_int_equal(session_items(f->db, items, SESSION_MAX_ITEMS), 2);
    /* another account starts empty */
    assert_true(session_login(f->db, "B987654321", "sim", now, &kept));
    assert_false(kept);
    assert_false(session_order_account(f->db, buf, sizeof buf));
    assert_int_equal(session_items(f->db, items, SESSION_MAX_ITEMS), 0);
}

static void test_expiry_and_renewal(void **state) {
    fixture *f = *state;
    double then = clock_wall_s() - SESSION_TIMEOUT_S - 100; /* logged in 12 h ago and untouched */
    assert_true(session_login(f->db, "A123456789", "sim", then, NULL));
    const char *accounts[] = {"SIM-0001"};
    assert_true(session_select_account(f->db, "SIM-0001", accounts, 1));
    double now = clock_wall_s();
    session_info s;
    assert_true(session_load(f->db, &s));
    assert_int_equal(session_state_at(&s, now), SESSION_EXPIRED);
    char why[200], buf[64];
    assert_true(session_entry_blocked(f->db, now, why, sizeof why));
    assert_non_null(strstr(why, "expired"));
    assert_non_null(strstr(why, "log in again"));
    assert_false(session_order_account(f->db, buf, sizeof buf));
    /* an expired session is not renewed, and reading it wipes nothing */
    assert_false(session_renew(f->db, now));
    assert_true(session_load(f->db, &s));
    assert_string_equal(s.account, "A123456789");
    assert_string_equal(s.order_account, "SIM-0001");
    assert_true(s.logged_in);

    /* an active one is pushed 12 h on */
    assert_true(session_login(f->db, "A123456789", "sim", now - 3600, NULL));
    assert_true(session_renew(f->db, now));
    assert_true(session_load(f->db, &s));
    assert_true(s.expires_at >= now + SESSION_TIMEOUT_S - 1);
}

static void test_process_rows(void **state) {
    fixture *f = *state;
    const char *names[] = {"strategy", "gateway", "supervisor", "executor"};
    for (int i = 0; i < 4; i++) {
        process_row r;
        memset(&r, 0, sizeof r);
        snprintf(r.name, sizeof r.name, "%s", names[i]);
        r.pid = 100 + i;
        snprintf(r.state, sizeof r.state, "running");
        snprintf(r.owner, sizeof r.owner, "menu");
        r.started_at = 1000 + i;
        assert_true(proc_row_put(f->db, &r));
    }
    process_row r;
    assert_true(proc_row_get(f->db, "gateway", &r));
    assert_int_equal(r.pid, 101);
    snprintf(r.state, sizeof r.state, "crashed");
    snprintf(r.last_error, sizeof r.last_error, "exited with code 1");
    r.restarts = 2;
    assert_true(proc_row_put(f->db, &r));
    process_row rows[8];
    assert_int_equal(proc_rows(f->db, rows, 8), 4);
    assert_string_equal(rows[0].name, "supervisor");
    assert_string_equal(rows[1].name, "gateway");
    assert_string_equal(rows[1].state, "crashed");
    assert_string_equal(rows[1].last_error, "exited with code 1");
    assert_int_equal(rows[1].restarts, 2);
    assert_string_equal(rows[2].name, "executor");
    assert_string_equal(rows[3].name, "strategy");
}

static void test_requests(void **state) {
    fixture *f = *state;
    assert_int_equal(host_request_last(f->db), 0);
    long long seq, got;
    char req[32], result[64];
    assert_false(host_request_next(f->db, 0, &got, req, sizeof req));
    assert_true((seq = host_request_post(f->db, "stop_trading")) == 1);
    assert_false(host_request_result(f->db, seq, result, sizeof result));
    assert_true(host_request_next(f->db, 0, &got, req, sizeof req));
    assert_int_equal(got, 1);
    assert_string_equal(req, "stop_trading");
    assert_false(host_request_next(f->db, got, &got, req, sizeof req));
    assert_true(host_request_finish(f->db, 1, "stopped"));
    assert_true(host_request_result(f->db, 1, result, sizeof result));
    assert_string_equal(result, "stopped");
    assert_int_equal(host_request_post(f->db, "stop_all"), 2);
    assert_false(host_request_result(f->db, 2, result, sizeof result));
}

static void test_pid_liveness(void **state) {
    (void)state;
    long long me = sup_pid_start(getpid());
    assert_true(me > 0);
    assert_true(sup_pid_alive(getpid(), me));
    assert_true(sup_pid_alive(getpid(), 0));
    assert_false(sup_pid_alive(getpid(), me + 1)); /* a reused pid is another process */
    assert_false(sup_pid_alive(0, 0));
    assert_false(sup_pid_alive(999999999, 0));
}

static void test_login_validation(void **state) {
    (void)state;
    uc_result r;
    assert_true(uc_validate_login("A123456789", "sim-pass", &r));
    assert_false(uc_validate_login("A12", "sim-pass", &r));
    assert_int_equal(r.st, UC_BAD_INPUT);
    assert_string_equal(r.msg, "Account: min length is 10");
    assert_false(uc_validate_login("", "abc", &r));
    assert_string_equal(r.msg, "Account: empty values not allowed\nPassword: min length is 5");
    char longer[100];
    memset(longer, 'x', 81);
    longer[81] = '\0';
    assert_false(uc_validate_login(longer, "sim-pass", &r));
    assert_string_equal(r.msg, "Account: max length is 80");
    assert_false(uc_validate_login("A123 456789", "sim-pass", &r));
}

static void test_input_checks(void **state) {
    (void)state;
    uc_result r;
    bool buy = false;
    assert_true(uc_check_side("b", &buy, &r) && buy);
    assert_true(uc_check_side("S", &buy, &r) && !buy);
    assert_true(uc_check_side("buy", &buy, &r) && buy);
    assert_false(uc_check_side("x", &buy, &r)); /* never a silent SELL */
    assert_non_null(strstr(r.msg, "b (buy) or s (sell)"));
    assert_false(uc_check_side("", &buy, &r));
    assert_false(uc_check_side("bbbbbbbbbbbbbb", &buy, &r));
    int64_t v;
    assert_true(uc_check_positive("Quantity", "3", 10, &v, &r) && v == 3);
    assert_false(uc_check_positive("Quantity", "0", 10, &v, &r));
    assert_non_null(strstr(r.msg, "from 1 to 10"));
    assert_false(uc_check_positive("Quantity", "11", 10, &v, &r));
    assert_false(uc_check_positive("Quantity", "-1", 10, &v, &r));
    assert_false(uc_check_positive("Quantity", "1.5", 10, &v, &r));
    assert_false(uc_check_positive("Quantity", "abc", 10, &v, &r));
    assert_non_null(strstr(r.msg, "not a whole number"));
    assert_false(uc_check_positive("Quantity", "", 10, &v, &r));
    assert_non_null(strstr(r.msg, "required"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_items_account_logout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry_and_renewal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_process_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
        cmocka_unit_test(test_pid_liveness),
        cmocka_unit_test(test_login_validation),
        cmocka_unit_test(test_input_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
