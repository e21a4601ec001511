/* TAIFEX's files as published and several of them at once: the real Daily_2021_07_26.zip read
 * as a stream, zips built here (a day split in two, a corrupt one, one with no CSV, an HTML page
 * saved as .zip), and tick_set's replay of files and directories in time order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "testkit.h"
#include "ticks/tickfile.h"
#include "ticks/tickset.h"

static const char *data_path(const char *name) {
    static char path[1024];
    const char *data = getenv("AFTM_TESTDATA");
    snprintf(path, sizeof path, "%s/ticks/%s", data ? data : "tests/data", name);
    return path;
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* A TAIFEX CSV (CP950 header) with the body given, in a zip member named member. */
static void write_zip(const char *path, const char *member, const char *body) {
    static char buf[1 << 16];
    const char *utf8 = "成交日期,商品代號,到期月份(週別),成交時間,成交價格,成交數量(B+S),近月價格,遠月價格,開盤集合競價\r\n";
    iconv_t cd = iconv_open("CP950", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    char *ip, *op = buf;
    memcpy(&ip, &utf8, sizeof ip); /* iconv does not write its input */
    size_t il = strlen(utf8), ol = sizeof buf;
    assert_true(iconv(cd, &ip, &il, &op, &ol) != (size_t)-1);
    iconv_close(cd);
    size_t n = sizeof buf - ol, b = strlen(body);
    memcpy(buf + n, body, b);
    int zerr;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    zip_source_t *src = zip_source_buffer(z, buf, n + b, 0);
    assert_non_null(src);
    assert_true(zip_file_add(z, member, src, ZIP_FL_OVERWRITE) >= 0);
    assert_int_equal(zip_close(z), 0);
}

static size_t count(const char *path, const tick_filter *f, int64_t *volume) {
    char err[512];
    tick_reader *r = tick_reader_open(path, f, err, sizeof err);
    if (!r) fail_msg("%s", err);
    tick_row row;
    size_t n = 0;
    int64_t prev = INT64_MIN, vol = 0;
    while (tick_reader_next(r, &row) == 1) {
        assert_true(row.ts_us >= prev);
        prev = row.ts_us;
        vol += row.volume;
        n++;
    }
    assert_int_equal(tick_reader_bad_rows(r), 0);
    tick_reader_close(r);
    if (volume) *volume = vol;
    return n;
}

static void test_real_day_zip(void **state) {
    (void)state;
    const char *p = data_path("Daily_2021_07_26.zip");
    tick_filter f = {.product = "TX"};
    assert_int_equal(count(p, &f, NULL), 95414);
    f.product = "MTX";
    assert_int_equal(count(p, &f, NULL), 199567);

    char err[512];
    tick_reader *r = tick_reader_open(p, &f, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(tick_reader_format(r), "taifex");
    tick_row row;
    assert_int_equal(tick_reader_next(r, &row), 1);
    assert_string_equal(row.symbol, "MTX202108");
    /* Friday 2021-07-23 15:00:00 +08:00: the night session opens the file */
    assert_true(row.ts_us >= INT64_C(1627023600) * 1000000 && row.ts_us < INT64_C(1627023660) * 1000000);
    tick_reader_close(r);

    /* without a product, every product's front month; the count says how many there are */
    r = tick_reader_open(p, NULL, err, sizeof err);
    assert_non_null(r);
    assert_true(tick_reader_products(r) > 100);
    assert_true(tick_reader_has_product(r, "TX"));
    assert_false(tick_reader_has_product(r, "NOPE"));
    tick_reader_close(r);
}

static void test_zip_volume_halved(void **state) {
    (void)state;
    tk_home h;
    tk_home_make(&h, "tickzip");
    char p[256];
    snprintf(p, sizeof p, "%s/Daily_2025_06_17.ZIP", h.path);
    write_zip(p, "Daily_2025_06_17.csv",
              "20250616,TX     ,202507     ,150000,22100,2,-,-,\r\n"
              "20250617,TX     ,202507     ,084500,22110,10,-,-,*\r\n");
    int64_t vol;
    assert_int_equal(count(p, NULL, &vol), 2);
    assert_int_equal(vol, 1 + 5); /* B+S counts each contract twice */
    tk_home_remove(&h);
}

static void test_bad_zips(void **state) {
    (void)state;
    tk_home h;
    tk_home_make(&h, "tickzip");
    char p[256], err[512];
    tick_filter f = {.product = "TX"};

    /* a zip cut short: the central directory is gone */
    snprintf(p, sizeof p, "%s/cut.zip", h.path);
    write_zip(p, "Daily_2025_06_17.csv", "20250616,TX     ,202507     ,150000,22100,2,-,-,\r\n");
    FILE *fp = fopen(p, "rb");
    assert_non_null(fp);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    write_file(p, buf, n / 2);
    assert_null(tick_reader_open(p, &f, err, sizeof err));
    assert_non_null(strstr(err, "not a readable zip archive"));

    /* a zip whose only member is not a CSV */
    snprintf(p, sizeof p, "%s/nocsv.zip", h.path);
    write_zip(p, "readme.txt", "hello\r\n");
    assert_null(tick_reader_open(p, &f, err, sizeof err));
    assert_non_null(strstr(err, "holds no .csv file"));

    /* TAIFEX's answer for a day without trading, saved under the zip's name */
    snprintf(p, sizeof p, "%s/Daily_2025_01_01.zip", h.path);
    const char *html = "<!DOCTYPE html>\r\n<html><body>no data</body></html>\r\n";
    write_file(p, html, strlen(html));
    assert_null(tick_reader_open(p, &f, err, sizeof err));
    assert_non_null(strstr(err, "HTML page"));

    /* the same through tick_set: nothing is replayed */
    const char *paths[] = {data_path("taifex_daily_sample.csv"), p};
    assert_null(tick_set_open(paths, 2, &f, err, sizeof err));
    assert_non_null(strstr(err, "HTML page"));
    tk_home_remove(&h);
}

static void test_set_time_order(void **state) {
    (void)state;
    tk_home h;
    tk_home_make(&h, "tickzip");
    char day2[256], day1[256], err[512];
    /* named so that the name order is the wrong one: the first tick decides */
    snprintf(day2, sizeof day2, "%s/a_second.zip", h.path);
    snprintf(day1, sizeof day1, "%s/b_first.csv.zip", h.path);
    write_zip(day2, "x.csv",
              "20250617,TX     ,202507     ,150000,22200,2,-,-,\r\n"
              "20250618,TX     ,202507     ,084500,22210,2,-,-,\r\n");
    write_zip(day1, "y.csv",
              "20250616,TX     ,202507     ,150000,22100,2,-,-,\r\n"
              "20250617,TX     ,202507     ,084500,22110,2,-,-,\r\n"
              "20250617,TX     ,202507     ,134459,22120,2,-,-,\r\n");
    tick_filter f = {.product = "TX"};
    const char *dir[] = {h.path};
    tick_set *s = tick_set_open(dir, 1, &f, err, sizeof err);
    if (!s) fail_msg("%s", err);
    assert_int_equal(tick_set_file_count(s), 2);
    assert_string_equal(tick_set_file(s, 0), day1);
    tick_row row;
    double prices[8];
    size_t n = 0;
    int64_t prev = INT64_MIN;
    while (tick_set_next(s, &row) == 1) {
        assert_true(n < 8);
        assert_true(row.ts_us > prev);
        prev = row.ts_us;
        prices[n++] = row.price;
    }
    assert_int_equal(n, 5);
    assert_true(prices[0] == 22100 && prices[2] == 22120 && prices[3] == 22200 && prices[4] == 22210);
    assert_int_equal(tick_set_out_of_order(s), 0);
    tick_set_close(s);

    /* files given one by one, with an overlap: the earlier ticks of the later file are skipped */
    char over[256];
    snprintf(over, sizeof over, "%s/over.zip", h.path);
    write_zip(over, "z.csv",
              "20250617,TX     ,202507     ,084600,22111,2,-,-,\r\n"
              "20250617,TX     ,202507     ,140000,22300,2,-,-,\r\n");
    const char *files[] = {day2, day1, over};
    s = tick_set_open(files, 3, &f, err, sizeof err);
    if (!s) fail_msg("%s", err);
    n = 0;
    while (tick_set_next(s, &row) == 1) n++;
    assert_int_equal(n, 6);
    assert_int_equal(tick_set_out_of_order(s), 1);
    tick_set_close(s);

    /* an empty directory is an error */
    char empty[256];
    snprintf(empty, sizeof empty, "%s/empty", h.path);
    assert_int_equal(mkdir(empty, 0700), 0);
    const char *e[] = {empty};
    assert_null(tick_set_open(e, 1, &f, err, sizeof err));
    assert_non_null(strstr(err, "no tick file"));
    tk_home_remove(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_day_zip),
        cmocka_unit_test(test_zip_volume_halved),
        cmocka_unit_test(test_bad_zips),
        cmocka_unit_test(test_set_time_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
