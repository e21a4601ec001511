/* Tick file reader: plain CSV, TAIFEX's daily CSV (CP950, CRLF, night session, spreads,
 * weekly expiries, front month), malformed rows, HTML pages, and the shared sample. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ticks/tickfile.h"

static char tmp_path[64];

static const char *write_tmp(const char *data, size_t n) {
    snprintf(tmp_path, sizeof tmp_path, "/tmp/aftm-tickfile-XXXXXX");
    int fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
    return tmp_path;
}

static const char *write_str(const char *s) { return write_tmp(s, strlen(s)); }

/* The TAIFEX header in CP950, as published. */
static size_t taifex_header(char *out, size_t cap) {
    const char *utf8 = "成交日期,商品代號,到期月份(週別),成交時間,成交價格,成交數量(B+S),近月價格,遠月價格,開盤集合競價\r\n";
    iconv_t cd = iconv_open("CP950", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    char *ip, *op = out;
    memcpy(&ip, &utf8, sizeof ip); /* iconv does not write its input */
    size_t il = strlen(utf8), ol = cap;
    assert_true(iconv(cd, &ip, &il, &op, &ol) != (size_t)-1);
    iconv_close(cd);
    return cap - ol;
}

/* Writes a TAIFEX file: CP950 header + body (already CRLF where wanted). */
static const char *write_taifex(const char *body) {
    static char buf[1 << 16];
    size_t n = taifex_header(buf, sizeof buf);
    size_t b = strlen(body);
    assert_true(n + b < sizeof buf);
    memcpy(buf + n, body, b);
    return write_tmp(buf, n + b);
}

typedef struct {
    tick_row rows[64];
    size_t n;
    size_t bad;
} read_all_t;

static void read_all(const char *path, const tick_filter *flt, read_all_t *out) {
    char err[256];
    tick_reader *r = tick_reader_open(path, flt, err, sizeof err);
    if (!r) fail_msg("open failed: %s", err);
    out->n = 0;
    tick_row row;
    int rc;
    while ((rc = tick_reader_next(r, &row)) == 1) {
        assert_true(out->n < 64);
        out->rows[out->n++] = row;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(tick_reader_next(r, &row), 0); /* stays at the end */
    out->bad = tick_reader_bad_rows(r);
    tick_reader_close(r);
}

static void open_fails(const char *path, const tick_filter *flt, const char *expect) {
    char err[256] = "";
    tick_reader *r = tick_reader_open(path, flt, err, sizeof err);
    assert_null(r);
    if (!strstr(err, expect)) fail_msg("error '%s' lacks '%s'", err, expect);
}

/* ---- plain CSV ---------------------------------------------------------------------------- */

static void test_plain_basic(void **state) {
    (void)state;
    const char *p = write_str("datetime,symbol,price,volume\n"
                              "2025-07-01 09:00:00,TXFG5,22000,1\n"
                              "2025-07-01 09:00:00.5,TXFG5,22001.5,3\n"
                              "2025-07-01 09:00:01.000001,TXFG5,21999,2\n"
                              "1970-01-01 00:00:01,X,1,0\n");
    read_all_t a;
    read_all(p, NULL, &a);
    unlink(p);
    assert_int_equal(a.n, 4);
    assert_int_equal(a.bad, 0);
    assert_string_equal(a.rows[0].symbol, "TXFG5");
    assert_true(a.rows[0].price == 22000.0);
    assert_int_equal(a.rows[0].volume, 1);
    assert_int_equal(a.rows[1].ts_us - a.rows[0].ts_us, 500000);
    assert_true(a.rows[1].price == 22001.5);
    assert_int_equal(a.rows[2].ts_us - a.rows[0].ts_us, 1000001);
    assert_int_equal(a.rows[3].ts_us, 1000000); /* UTC */
    assert_string_equal(a.rows[3].symbol, "X");
    /* 2025-07-01 09:00:00 UTC */
    assert_int_equal(a.rows[0].ts_us, INT64_C(1751360400) * 1000000);
}

static void test_plain_bom_crlf_blank_and_ctrl_z(void **state) {
    (void)state;
    const char *p = write_str("\xef\xbb\xbf" "datetime,symbol,price,volume\r\n"
                              "2025-07-01 09:00:00,TX,100,1\r\n"
                              "\r\n"
                              "2025-07-01 09:00:01,TX,101,1\r\n"
                              "   \r\n\r\n"
                              "\x1a");
    read_all_t a;
    read_all(p, NULL, &a);
    unlink(p);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.bad, 0);
    assert_true(a.rows[1].price == 101.0);
}

static void test_plain_no_final_newline(void **state) {
    (void)state;
    const char *p = write_str("datetime,symbol,price,volume\n2025-07-01 09:00:00,TX,100,1");
    read_all_t a;
    read_all(p, NULL, &a);
    unlink(p);
    assert_int_equal(a.n, 1);
    assert_true(a.rows[0].price == 100.0);
}

static void test_plain_malformed_rows(void **state) {
    (void)state;
    const char *p = write_str("datetime,symbol,price,volume\n"
                              "2025-07-01 09:00:00,TX,100,1\n"      /* 2 ok */
                              "2025-13-01 09:00:00,TX,100,1\n"      /* 3 month 13 */
                              "2025-02-30 09:00:00,TX,100,1\n"      /* 4 no such day */
                              "2025-07-01 25:00:00,TX,100,1\n"      /* 5 hour */
                              "2025/07/01 09:00:00,TX,100,1\n"      /* 6 separators */
                              "2025-07-01 09:00:00,TX,abc,1\n"      /* 7 price */
                              "2025-07-01 09:00:00,TX,0,1\n"        /* 8 zero price */
                              "2025-07-01 09:00:00,TX,-5,1\n"       /* 9 negative */
                              "2025-07-01 09:00:00,TX,100,x\n"      /* 10 volume */
                              "2025-07-01 09:00:00,TX,100\n"        /* 11 missing field */
                              "2025-07-01 09:00:00,,100,1\n"        /* 12 empty symbol */
                              "2025-07-01 09:00:00.1234567890,TX,100,1\n" /* 13 fraction too long */
                              "2025-07-01 09:00:00,TX,nan,1\n"      /* 14 */
                              "2025-07-01 09:00:00,TX,1e999,1\n"    /* 15 */
                              "2025-07-01 09:00:00,TX,100,-1\n"     /* 16 */
                              "2025-07-01 09:00:02,TX,102,1\n");    /* 17 ok */
    read_all_t a;
    read_all(p, NULL, &a);
    unlink(p);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.bad, 14);
    assert_true(a.rows[1].price == 102.0);
}

static void test_plain_filter_and_columns(void **state) {
    (void)state;
    const char *p = write_str("symbol,price,datetime,volume,extra\n"
                              "TX,100,2025-07-01 09:00:00,1,z\n"
                              "MTX,200,2025-07-01 09:00:01,1,z\n"
                              "TX,101,2025-07-01T09:00:02,1,z\n");
    read_all_t a;
    tick_filter f = {.product = "TX", .expiry = NULL};
    read_all(p, &f, &a);
    assert_int_equal(a.n, 2);
    assert_true(a.rows[1].price == 101.0);
    f.product = "MTX";
    read_all(p, &f, &a);
    assert_int_equal(a.n, 1);
    assert_true(a.rows[0].price == 200.0);
    unlink(p);
}

static void test_long_line(void **state) {
    (void)state;
    size_t big = (1u << 20) + 5000;
    const char *head = "datetime,symbol,price,volume\n2025-07-01 09:00:00,TX,100,1\n";
    const char *tail = "\n2025-07-01 09:00:01,TX,101,1\n";
    char *buf = malloc(strlen(head) + big + strlen(tail));
    assert_non_null(buf);
    size_t n = 0;
    memcpy(buf, head, strlen(head)), n += strlen(head);
    memset(buf + n, 'x', big), n += big;
    memcpy(buf + n, tail, strlen(tail)), n += strlen(tail);
    const char *p = write_tmp(buf, n);
    free(buf);
    read_all_t a;
    read_all(p, NULL, &a);
    unlink(p);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.bad, 1);
    assert_true(a.rows[1].price == 101.0);
}

/* ---- bad files ---------------------------------------------------------------------------- */

static void test_bad_files(void **state) {
    (void)state;
    open_fails("/nonexistent/ticks.csv", NULL, "cannot open");
    open_fails("/tmp", NULL, "directory");
    const char *p = write_str("");
    open_fails(p, NULL, "empty");
    unlink(p);
    p = write_str("\n\n\r\n");
    open_fails(p, NULL, "empty");
    unlink(p);
    p = write_str("\r\n<!DOCTYPE html>\r\n<html><head><title>TAIFEX</title></head><body>holiday</body></html>\r\n");
    open_fails(p, NULL, "HTML");
    unlink(p);
    p = write_str("  <html>\n<body>no data</body></html>");
    open_fails(p, NULL, "HTML");
    unlink(p);
    p = write_str("time,px\n1,2\n");
    open_fails(p, NULL, "unrecognised header");
    unlink(p);
    /* Big5 bytes that are not the TAIFEX header */
    p = write_str("\xa4\xa4\xa4\xe5,\xb4\xfa\xb8\xd5\r\n1,2\r\n");
    open_fails(p, NULL, "unrecognised header");
    unlink(p);
    tick_filter f = {.product = "", .expiry = NULL};
    p = write_str("datetime,symbol,price,volume\n");
    open_fails(p, &f, "product");
    unlink(p);
}

static void test_header_only(void **state) {
    (void)state;
    const char *p = write_str("datetime,symbol,price,volume\r\n");
    read_all_t a;
    read_all(p, NULL, &a);
    unlink(p);
    assert_int_equal(a.n, 0);
    assert_int_equal(a.bad, 0);
}

/* ---- TAIFEX ------------------------------------------------------------------------------- */

static void test_taifex_front_month_spreads_weekly(void **state) {
    (void)state;
    const char *p = write_taifex("20250616,TX     ,202508     ,150000,22147,2,-,-,\r\n"
                                 "20250616,TX     ,202507     ,150033,22146,10,-,-,\r\n"
                                 "20250616,TX     ,202506W4   ,150214,22148,2,-,-,\r\n"
                                 "20250616,MTX    ,202507     ,150248,22148,2,-,-,\r\n"
                                 "20250616,MTX    ,202506W4   ,150249,22140,2,-,-,\r\n"
                                 "20250617,TX     ,202507/202508,084843,29,2,22216,22246,\r\n"
                                 "20250617,TX     ,202507     ,084500,22217,4,-,-,*\r\n"
                                 "\r\n\r\n\x1a");
    read_all_t a;
    tick_filter f = {.product = "TX", .expiry = NULL};
    read_all(p, &f, &a);
    assert_int_equal(a.bad, 0);
    assert_int_equal(a.n, 2);
    assert_string_equal(a.rows[0].symbol, "TX202507");
    assert_true(a.rows[0].price == 22146.0);
    assert_int_equal(a.rows[0].volume, 5); /* B+S 10: 5 contracts */
    /* 2025-06-16 15:00:33 Asia/Taipei = 07:00:33 UTC */
    assert_int_equal(a.rows[0].ts_us, (INT64_C(1750057200) + 33) * 1000000);
    assert_true(a.rows[1].price == 22217.0);

    f.expiry = "202506W4";
    read_all(p, &f, &a);
    assert_int_equal(a.n, 1);
    assert_string_equal(a.rows[0].symbol, "TX202506W4");

    f.expiry = "202508";
    read_all(p, &f, &a);
    assert_int_equal(a.n, 1);
    assert_string_equal(a.rows[0].symbol, "TX202508");

    f.product = "MTX";
    f.expiry = NULL;
    read_all(p, &f, &a);
    assert_int_equal(a.n, 1);
    assert_string_equal(a.rows[0].symbol, "MTX202507");

    /* every product, each at its own front month */
    read_all(p, NULL, &a);
    assert_int_equal(a.n, 3);
    assert_string_equal(a.rows[0].symbol, "TX202507");
    assert_string_equal(a.rows[1].symbol, "MTX202507");
    assert_string_equal(a.rows[2].symbol, "TX202507");

    f.product = "TE";
    open_fails(p, &f, "not found");
    unlink(p);

    p = write_taifex("20250616,TX     ,202506W4   ,150214,22148,2,-,-,\r\n");
    f.product = "TX";
    open_fails(p, &f, "no regular monthly expiry");
    unlink(p);
}

static void test_taifex_night_session(void **state) {
    (void)state;
    /* rows after midnight dated with the calendar date (as TAIFEX publishes) */
    const char *p = write_taifex("20250616,TX     ,202507     ,235959,100,2,-,-,\r\n"
                                 "20250617,TX     ,202507     ,000001,101,2,-,-,\r\n"
                                 "20250617,TX     ,202507     ,045959,102,2,-,-,\r\n"
                                 "20250617,TX     ,202507     ,084500,103,2,-,-,*\r\n");
    read_all_t a;
    read_all(p, NULL, &a);
    unlink(p);
    assert_int_equal(a.n, 4);
    assert_int_equal(a.rows[1].ts_us - a.rows[0].ts_us, 2 * 1000000);
    assert_int_equal(a.rows[2].ts_us - a.rows[1].ts_us, (4 * 3600 + 59 * 60 + 58) * INT64_C(1000000));
    assert_int_equal(a.rows[3].ts_us - a.rows[2].ts_us, (3 * 3600 + 45 * 60 + 1) * INT64_C(1000000));

    /* rows after midnight dated with the session's start date: they belong to the next day */
    p = write_taifex("20250616,TX     ,202507     ,235959,100,2,-,-,\r\n"
                     "20250616,TX     ,202507     ,000001,101,2,-,-,\r\n"
                     "20250616,TX     ,202507     ,045959,102,2,-,-,\r\n"
                     "20250617,TX     ,202507     ,084500,103,2,-,-,*\r\n"
                     "20250617,TX     ,202507     ,134500,104,2,-,-,\r\n");
    read_all_t b;
    read_all(p, NULL, &b);
    unlink(p);
    assert_int_equal(b.n, 5);
    for (size_t i = 0; i < 4; i++) assert_int_equal(b.rows[i].ts_us, a.rows[i].ts_us);
    assert_true(b.rows[4].ts_us > b.rows[3].ts_us);
}

static void test_taifex_malformed_rows(void **state) {
    (void)state;
    const char *p = write_taifex("20250616,TX     ,202507     ,150000,100,2,-,-,\r\n"  /* 2 ok */
                                 "2025061,TX     ,202507     ,150001,100,2,-,-,\r\n"   /* 3 date */
                                 "20251316,TX     ,202507     ,150001,100,2,-,-,\r\n"  /* 4 month */
                                 "20250616,TX     ,202507     ,156001,100,2,-,-,\r\n"  /* 5 minute */
                                 "20250616,TX     ,202507     ,15a001,100,2,-,-,\r\n"  /* 6 time */
                                 "20250616,TX     ,202507     ,150001,-,2,-,-,\r\n"    /* 7 price */
                                 "20250616,TX     ,202507     ,150001,0,2,-,-,\r\n"    /* 8 price 0 */
                                 "20250616,TX     ,202507     ,150001,100,,-,-,\r\n"   /* 9 volume */
                                 "20250616,TX     ,202507\r\n"                         /* 10 fields */
                                 "20250616,       ,202507     ,150001,100,2,-,-,\r\n"  /* 11 product */
                                 "20250616,TX     ,           ,150001,100,2,-,-,\r\n"  /* 12 expiry */
                                 "garbage\r\n"                                         /* 13 */
                                 "20250616,TX     ,202507     ,150002,100.5,2,-,-,\r\n"/* 14 ok */
                                 "20250616,MTX    ,202507     ,15x002,100,2,-,-,\r\n"  /* other product */
                                 "\x1a");
    read_all_t a;
    tick_filter f = {.product = "TX", .expiry = NULL};
    read_all(p, &f, &a);
    unlink(p);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.bad, 11);
    assert_true(a.rows[1].price == 100.5);
    assert_int_equal(a.rows[1].ts_us - a.rows[0].ts_us, 2000000);
}

static void test_taifex_utf8_header(void **state) {
    (void)state;
    const char *p = write_str("成交日期,商品代號,到期月份(週別),成交時間,成交價格,成交數量(B+S)\n"
                              "20250616,TX,202507,150000,100,2\n");
    read_all_t a;
    read_all(p, NULL, &a);
    unlink(p);
    assert_int_equal(a.n, 1);
    assert_string_equal(a.rows[0].symbol, "TX202507");
}

/* ---- the shared sample -------------------------------------------------------------------- */

static const char *sample_path(void) {
    static char path[1024];
    const char *data = getenv("AFTM_TESTDATA");
    snprintf(path, sizeof path, "%s/ticks/taifex_daily_sample.csv", data ? data : "tests/data");
    return path;
}

static size_t count_sample(const tick_filter *f, int64_t *first, int64_t *last, bool *monotonic, size_t *bad) {
    char err[256];
    tick_reader *r = tick_reader_open(sample_path(), f, err, sizeof err);
    if (!r) fail_msg("%s", err);
    tick_row row;
    size_t n = 0;
    int64_t prev = INT64_MIN;
    *monotonic = true;
    while (tick_reader_next(r, &row) == 1) {
        if (!n) *first = row.ts_us;
        if (row.ts_us < prev) *monotonic = false;
        prev = *last = row.ts_us;
        n++;
    }
    *bad = tick_reader_bad_rows(r);
    tick_reader_close(r);
    return n;
}

static void test_shared_sample(void **state) {
    (void)state;
    int64_t first, last;
    bool mono;
    size_t bad;
    tick_filter f = {.product = "TX", .expiry = NULL};
    assert_int_equal(count_sample(&f, &first, &last, &mono, &bad), 1215);
    assert_int_equal(bad, 0);
    assert_true(mono);
    assert_int_equal(first, (INT64_C(1750057200) + 33) * 1000000); /* 2025-06-16 15:00:33 +08 */
    /* 2025-06-17 13:44:xx +08 = 05:44 UTC on the 17th */
    assert_true(last >= INT64_C(1750139040) * 1000000 && last < INT64_C(1750139100) * 1000000);

    char err[256];
    tick_reader *r = tick_reader_open(sample_path(), &f, err, sizeof err);
    assert_non_null(r);
    tick_row row;
    assert_int_equal(tick_reader_next(r, &row), 1);
    assert_string_equal(row.symbol, "TX202507");
    assert_true(row.price == 22146.0);
    tick_reader_close(r);

    f.product = "MTX";
    assert_int_equal(count_sample(&f, &first, &last, &mono, &bad), 1201);
    assert_true(mono);
    f.product = "TX";
    f.expiry = "202508";
    assert_int_equal(count_sample(&f, &first, &last, &mono, &bad), 611);
    f.expiry = "202506W4";
    assert_int_equal(count_sample(&f, &first, &last, &mono, &bad), 197);
    assert_int_equal(count_sample(NULL, &first, &last, &mono, &bad), 1215 + 1201);
    assert_int_equal(bad, 0);
    assert_true(mono);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_basic),
        cmocka_unit_test(test_plain_bom_crlf_blank_and_ctrl_z),
        cmocka_unit_test(test_plain_no_final_newline),
        cmocka_unit_test(test_plain_malformed_rows),
        cmocka_unit_test(test_plain_filter_and_columns),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_header_only),
        cmocka_unit_test(test_taifex_front_month_spreads_weekly),
        cmocka_unit_test(test_taifex_night_session),
        cmocka_unit_test(test_taifex_malformed_rows),
        cmocka_unit_test(test_taifex_utf8_header),
        cmocka_unit_test(test_shared_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
