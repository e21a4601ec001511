/* Equity CSV, its figures, and the cairo chart read back from its PNG: collapsed closed time,
 * the drawdown panel, trade markers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/chart.h"
#include "report/equity.h"
#include "report/figures.h"

static char tmp_path[64];

static const char *write_str(const char *s) {
    snprintf(tmp_path, sizeof tmp_path, "/tmp/aftm-chart-XXXXXX");
    int fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
    close(fd);
    return tmp_path;
}

static void load(const char *csv, equity_series *s) {
    char err[256];
    const char *p = write_str(csv);
    bool ok = equity_read_csv(p, s, err, sizeof err);
    unlink(p);
    if (!ok) fail_msg("%s", err);
}

static void read_fails(const char *csv, const char *expect) {
    char err[256] = "";
    equity_series s;
    const char *p = write_str(csv);
    bool ok = equity_read_csv(p, &s, err, sizeof err);
    unlink(p);
    assert_false(ok);
    if (!strstr(err, expect)) fail_msg("error '%s' lacks '%s'", err, expect);
}

static void test_read_and_stats(void **state) {
    (void)state;
    equity_series s;
    load("date,equity\r\n2025-06-01,100000\r\n2025-06-02,110000\r\n2025-06-03,99000\r\n2025-06-04,120000", &s);
    assert_int_equal(s.n, 4);
    fig_curve st;
    assert_true(fig_curve_daily(&s, NAN, &st)); /* no capital: the first row is the base */
    assert_true(fabs(st.return_pct - 20.0) < 1e-9);
    assert_true(fabs(st.max_dd_pct - (-10.0)) < 1e-9); /* 99000 vs running max 110000 */
    assert_true(st.peak == 120000 && st.peak_index == 3);
    assert_true(st.trough == 99000);
    char a[11];
    equity_format_date((int64_t)st.first_t, a);
    assert_string_equal(a, "2025-06-01");
    char t[256];
    chart_title(&st, NULL, t, sizeof t);
    assert_string_equal(t, "Equity Curve  \u2022  Return: +20.00%  \u2022  Max DD: -10.00%  \u2022  NT$100,000 \u2192 "
                           "NT$120,000");
    chart_subtitle(&st, t, sizeof t);
    assert_string_equal(t, "2025-06-01 to 2025-06-04 (4 days)");
    equity_free(&s);

    /* one row: no crash, zero return and drawdown without a capital ... */
    load("date,equity\n2025-06-01,149995\n", &s);
    assert_true(fig_curve_daily(&s, NAN, &st));
    assert_true(st.return_pct == 0 && st.max_dd_pct == 0 && st.peak == 149995);
    equity_free(&s);
    /* ... and a first live day's return against the capital */
    load("date,equity\n2026-03-02,1003600\n", &s);
    assert_true(fig_curve_daily(&s, 1000000, &st));
    assert_true(fabs(st.return_pct - 0.36) < 1e-9 && st.max_dd_pct == 0);
    equity_free(&s);

    /* header only: empty, no stats */
    load("\xef\xbb\xbf" "date,equity\n\n", &s);
    assert_int_equal(s.n, 0);
    assert_false(fig_curve_daily(&s, NAN, &st));
    equity_free(&s);

    char m[32];
    equity_format_money(175532, m, sizeof m);
    assert_string_equal(m, "NT$175,532");
    equity_format_money(-1234567.4, m, sizeof m);
    assert_string_equal(m, "-NT$1,234,567");
    equity_format_money(999, m, sizeof m);
    assert_string_equal(m, "NT$999");
}

static void test_read_errors(void **state) {
    (void)state;
    read_fails("day,value\n2025-06-01,1\n", "header");
    read_fails("date,equity\n2025-06-31,1\n", "bad date");
    read_fails("date,equity\n2025-06-01,abc\n", "bad equity");
    read_fails("date,equity\n2025-06-01\n", "expected");
    read_fails("date,equity\n2025-06-02,1\n2025-06-01,2\n", "not after");
    char err[256];
    equity_series s;
    assert_false(equity_read_csv("/nonexistent/eq.csv", &s, err, sizeof err));
}

static void test_write_roundtrip(void **state) {
    (void)state;
    equity_series s = {0};
    int64_t d;
    assert_true(equity_parse_date("2025-06-01", 10, &d));
    assert_true(equity_append(&s, d, 100000.4));
    assert_true(equity_append(&s, d + 1, 100500.6));
    assert_true(equity_append(&s, d + 1, 100600)); /* same day replaces */
    assert_false(equity_append(&s, d, 1));        /* backwards */
    char path[] = "/tmp/aftm-chart-w-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    char err[256];
    assert_true(equity_write_csv(path, &s, err, sizeof err));
    FILE *f = fopen(path, "r");
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, "date,equity\n2025-06-01,100000\n2025-06-02,100600");
    equity_series r;
    assert_true(equity_read_csv(path, &r, err, sizeof err));
    assert_int_equal(r.n, 2);
    assert_true(r.pts[1].equity == 100600);
    unlink(path);
    equity_free(&r);
    equity_free(&s);
}

static uint32_t pixel(cairo_surface_t *img, double x, double y) {
    int xi = (int)lround(x), yi = (int)lround(y);
    unsigned char *data = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    uint32_t v;
    memcpy(&v, data + (size_t)yi * (size_t)stride + (size_t)xi * 4, 4);
    return v & 0xffffffu;
}

static void near_colour(uint32_t got, uint32_t want) {
    for (int sh = 0; sh <= 16; sh += 8) {
        int a = (int)((got >> sh) & 0xff), b = (int)((want >> sh) & 0xff);
        if (abs(a - b) > 6) fail_msg("pixel %06x, want %06x", got, want);
    }
}

static fig_point *daily_points(const equity_series *s) {
    fig_point *p = malloc(s->n * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < s->n; i++) p[i] = (fig_point){(double)s->pts[i].day, s->pts[i].equity};
    return p;
}

static const char *tmp_png(char *buf, size_t cap) {
    snprintf(buf, cap, "/tmp/aftm-chart-png-XXXXXX");
    int fd = mkstemp(buf);
    assert_true(fd >= 0);
    close(fd);
    return buf;
}

static cairo_surface_t *read_png(const char *png) {
    cairo_surface_t *img = cairo_image_surface_create_from_png(png);
    unlink(png);
    assert_int_equal(cairo_surface_status(img), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(img), 1800);
    assert_int_equal(cairo_image_surface_get_height(img), 750);
    cairo_surface_flush(img);
    return img;
}

static uint32_t blend(uint32_t c, double alpha) {
    uint32_t want = 0;
    for (int sh = 0; sh <= 16; sh += 8) {
        double v = ((c >> sh) & 0xff) * alpha + ((CHART_BG >> sh) & 0xff) * (1 - alpha);
        want |= (uint32_t)lround(v) << sh;
    }
    return want;
}

/* Renders, reads back, checks size and the line colour in the middle of inner segments. */
static void render_and_check(const char *csv, uint32_t want_line) {
    equity_series s;
    load(csv, &s);
    char png[64];
    tmp_png(png, sizeof png);
    char err[256];
    chart_figures drawn;
    assert_true(chart_render_daily(&s, NAN, png, 0, 0, &drawn, err, sizeof err));
    cairo_surface_t *img = read_png(png);
    fig_curve want;
    assert_true(fig_curve_daily(&s, NAN, &want));
    assert_true(drawn.headline.max_dd_pct == want.max_dd_pct && drawn.headline.return_pct == want.return_pct);

    fig_point *p = daily_points(&s);
    chart_input in = {.pts = p, .n = s.n, .base = NAN};
    chart_geom g;
    assert_true(chart_geometry(&in, &g));
    assert_int_equal(g.line_rgb, want_line);
    near_colour(pixel(img, 2, 2), CHART_BG); /* background corner */
    for (size_t i = 1; i + 2 < s.n; i++) {
        double x0, y0, x1, y1;
        chart_map(&g, (double)s.pts[i].day, s.pts[i].equity, &x0, &y0);
        chart_map(&g, (double)s.pts[i + 1].day, s.pts[i + 1].equity, &x1, &y1);
        near_colour(pixel(img, (x0 + x1) / 2, (y0 + y1) / 2), want_line);
    }
    if (s.n >= 2) {
        /* the area under the line: the line colour at alpha 0.15 over the background */
        double x0, y0, x1, y1, fx, fy;
        chart_map(&g, (double)s.pts[1].day, s.pts[1].equity, &x0, &y0);
        chart_map(&g, (double)s.pts[2].day, s.pts[2].equity, &x1, &y1);
        chart_map(&g, (double)s.pts[1].day, g.floor, &fx, &fy);
        double ymid = (fy + (y0 > y1 ? y0 : y1)) / 2;
        near_colour(pixel(img, (x0 + x1) / 2, ymid), blend(want_line, 0.15));
    }
    chart_geom_free(&g);
    free(p);
    cairo_surface_destroy(img);
    equity_free(&s);
}

static void test_chart_up(void **state) {
    (void)state;
    render_and_check("date,equity\n2025-06-01,149995\n2025-06-02,151000\n2025-06-03,150500\n2025-06-05,158000\n"
                     "2025-06-09,154000\n2025-06-10,162000\n2025-06-20,175532",
                     CHART_UP);
}

static void test_chart_down(void **state) {
    (void)state;
    render_and_check("date,equity\n2025-06-01,100000\n2025-06-02,99000\n2025-06-05,97000\n2025-06-06,98000\n"
                     "2025-06-07,96000\n",
                     CHART_DOWN);
}

static void test_chart_one_row(void **state) {
    (void)state;
    render_and_check("date,equity\n2025-06-01,100000\n", CHART_UP);
    equity_series s;
    load("date,equity\n2025-06-01,100000\n", &s);
    fig_point *p = daily_points(&s);
    chart_input in = {.pts = p, .n = 1, .base = NAN};
    chart_geom g;
    assert_true(chart_geometry(&in, &g));
    double x, y;
    chart_map(&g, (double)s.pts[0].day, 100000, &x, &y);
    assert_true(x > g.left && x < g.right && y > g.top && y < g.bottom);
    chart_geom_free(&g);
    free(p);
    equity_free(&s);

    equity_series empty = {0};
    char err[128];
    assert_false(chart_render_daily(&empty, NAN, "/tmp/never.png", 0, 0, NULL, err, sizeof err));
}

/* Closed time takes no room: trading days at equal steps over a weekend; an intraday night
 * and the next day session touch; the drawdown panel is under the equity. */
static void test_collapsed_axis(void **state) {
    (void)state;
    int64_t fri;
    assert_true(equity_parse_date("2025-06-13", 10, &fri));
    const double d = (double)fri;
    fig_point days[] = {{d - 1, 100}, {d, 101}, {d + 3, 99}, {d + 4, 102}}; /* Thu Fri Mon Tue */
    chart_input in = {.pts = days, .n = 4, .base = NAN};
    chart_geom g;
    assert_true(chart_geometry(&in, &g));
    double x[4], y;
    for (int i = 0; i < 4; i++) chart_map(&g, days[i].t, days[i].equity, &x[i], &y);
    assert_true(fabs((x[1] - x[0]) - (x[2] - x[1])) < 1e-6 && fabs((x[3] - x[2]) - (x[2] - x[1])) < 1e-6);
    assert_true(g.bottom < g.dd_top && g.dd_top < g.dd_bottom);
    chart_geom_free(&g);

    /* night 15:00-05:00, day 08:45-13:45, a point every 15 minutes: 05:00 and 08:45 land on
     * the same x, the weekend between takes no room */
    fig_point intra[57 + 21];
    size_t n = 0;
    for (int k = 0; k <= 56; k++) intra[n++] = (fig_point){d + 15 / 24.0 + k / 96.0, 100 + k % 3};
    for (int k = 0; k <= 20; k++) intra[n++] = (fig_point){d + 3 + 8.75 / 24.0 + k / 96.0, 100 - k % 2};
    in = (chart_input){.pts = intra, .n = n, .base = 100, .intraday = true};
    assert_true(chart_geometry(&in, &g));
    double xa, xb, x0, x1;
    chart_map(&g, intra[56].t, 0, &xa, &y);
    chart_map(&g, intra[57].t, 0, &xb, &y);
    assert_true(fabs(xa - xb) < 1e-6);
    chart_map(&g, intra[0].t, 0, &x0, &y);
    chart_map(&g, intra[n - 1].t, 0, &x1, &y);
    /* 14 h + 5 h of open time across the plot */
    assert_true(fabs(chart_axis_x(&g, intra[n - 1].t) - chart_axis_x(&g, intra[0].t) - 19 / 24.0) < 1e-9);
    assert_true(x0 > g.left && x1 < g.right);
    chart_geom_free(&g);
}

/* A backtest's chart: the title's drawdown is the daily closes', the panel shows the
 * drawdown under the line, and a buy entry is marked. */
static void test_curve(void **state) {
    (void)state;
    int64_t day;
    assert_true(equity_parse_date("2025-06-16", 10, &day));
    const double d = (double)day;
    /* 15:00, 15:01, 15:30, 15:50, 16:10 */
    fig_point p[] = {{d + 15 / 24.0, 1000000}, {d + (15 * 60 + 1) / 1440.0, 1010000},
                     {d + 15.5 / 24.0, 989800},  {d + (15 * 60 + 50) / 1440.0, 1005000},
                     {d + (16 * 60 + 10) / 1440.0, 1020000}};
    fig_curve st;
    assert_true(fig_curve_compute(p, 5, 1000000, &st));
    assert_true(fabs(st.return_pct - 2.0) < 1e-9);
    assert_true(fabs(st.max_dd_pct - (-2.0)) < 1e-9); /* 989,800 vs 1,010,000 */
    assert_true(st.peak == 1020000 && st.peak_index == 4);
    /* a dip right after the start counts */
    fig_point q[] = {{d, 100}, {d + 0.5, 90}};
    assert_true(fig_curve_compute(q, 2, NAN, &st));
    assert_true(fabs(st.max_dd_pct - (-10.0)) < 1e-9);

    equity_series daily = {0};
    assert_true(equity_append(&daily, day, 1020000));
    chart_mark marks[] = {{d + 15.5 / 24.0, CHART_MARK_BUY}};
    chart_input in = {.pts = p, .n = 5, .base = 1000000, .daily = &daily, .marks = marks, .nmarks = 1,
                      .subtitle = "TX202507  test", .intraday = true};
    char png[64], err[256];
    tmp_png(png, sizeof png);
    chart_figures drawn;
    assert_true(chart_render(&in, png, &drawn, err, sizeof err));
    assert_true(drawn.headline.max_dd_pct == 0 && fabs(drawn.curve.max_dd_pct - (-2.0)) < 1e-9);
    cairo_surface_t *img = read_png(png);
    near_colour(pixel(img, 2, 2), CHART_BG);
    chart_geom g;
    assert_true(chart_geometry(&in, &g));
    /* the drawdown panel at 15:30 (-2 %): filled between 0 and the line */
    double x, y0, y1;
    chart_map_dd(&g, p[2].t, 0, &x, &y0);
    chart_map_dd(&g, p[2].t, -2.0, &x, &y1);
    near_colour(pixel(img, x + 3, (y0 + y1) / 2 + 5), blend(CHART_DD, 0.35));
    /* the entry: a triangle under the line at 15:30 */
    double mx, my;
    chart_map(&g, marks[0].t, 989800, &mx, &my);
    near_colour(pixel(img, mx, my + 2.2 * 4.5 * 150 / 72.0 + 2), CHART_ENTRY);
    chart_geom_free(&g);
    cairo_surface_destroy(img);
    equity_free(&daily);

    in.n = 0;
    assert_false(chart_render(&in, "/tmp/never.png", NULL, err, sizeof err));
    in.n = 1;
    in.nmarks = 0;
    tmp_png(png, sizeof png);
    assert_true(chart_render(&in, png, NULL, err, sizeof err)); /* one point */
    unlink(png);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_and_stats), cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_write_roundtrip), cmocka_unit_test(test_chart_up),
        cmocka_unit_test(test_chart_down),     cmocka_unit_test(test_chart_one_row),
        cmocka_unit_test(test_collapsed_axis), cmocka_unit_test(test_curve),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    chart_release_caches();
    return rc;
}
