/* Rotating log files: lines appended whole, a rotation past the size limit, old files shifted
 * and the oldest beyond `keep` dropped, and a file reopened by a restarted process appended to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <cmocka.h>

#include "testkit.h"

#include "core/log_file.h"

static long file_size(const char *dir, const char *name) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void read_all(const char *dir, const char *name, char *out, size_t cap) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    size_t n = f ? fread(out, 1, cap - 1, f) : 0;
    out[n] = '\0';
    if (f) fclose(f);
}

static void test_rotates_by_size_and_keeps_n(void **state) {
    (void)state;
    tk_home h;
    tk_home_make(&h, "logfile");
    char dir[128], err[128] = "";
    snprintf(dir, sizeof dir, "%s/logs", h.path); /* made by the open */
    log_file *f = log_file_open(dir, "executor", 1024, 2, err, sizeof err);
    assert_non_null(f);
    char line[100];
    memset(line, 'x', 99);
    line[99] = '\0';
    for (int i = 0; i < 10; i++) { /* 1000 bytes: under the limit */
        line[0] = (char)('0' + i);
        log_file_write(f, line, strlen(line));
    }
    assert_int_equal(file_size(dir, "executor.log"), 1000);
    assert_int_equal(file_size(dir, "executor.log.1"), -1);
    log_file_write(f, "next", 4); /* 1005 > 1024? no: still fits */
    assert_int_equal(file_size(dir, "executor.log"), 1005);
    log_file_write(f, line, strlen(line)); /* would pass 1024: rotated first */
    assert_int_equal(file_size(dir, "executor.log.1"), 1005);
    assert_int_equal(file_size(dir, "executor.log"), 100);
    for (int i = 0; i < 30; i++) log_file_write(f, line, strlen(line));
    assert_true(file_size(dir, "executor.log.2") > 0);
    assert_int_equal(file_size(dir, "executor.log.3"), -1); /* keep 2 */
    assert_true(file_size(dir, "executor.log") <= 1024);
    log_file_close(f);
    /* a restarted process appends, and counts what is there toward the limit */
    long before = file_size(dir, "executor.log");
    f = log_file_open(dir, "executor", 1024, 2, err, sizeof err);
    assert_non_null(f);
    log_file_write(f, "again", 5);
    assert_int_equal(file_size(dir, "executor.log"), before + 6);
    char text[2048];
    read_all(dir, "executor.log", text, sizeof text);
    assert_non_null(strstr(text, "again\n"));
    /* the fd check: a descriptor on the same file is recognised, another one is not */
    char p[256];
    snprintf(p, sizeof p, "%s/executor.log", dir);
    int same = open(p, O_RDONLY), other = open("/dev/null", O_RDONLY);
    assert_true(log_file_is_fd(f, same));
    assert_false(log_file_is_fd(f, other));
    close(same);
    close(other);
    log_file_close(f);
    /* bad names are refused */
    assert_null(log_file_open(dir, "../x", 1024, 2, err, sizeof err));
    assert_null(log_file_open(dir, "", 1024, 2, err, sizeof err));
    tk_home_remove(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotates_by_size_and_keeps_n),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
