/* The equity chart, rendered with cairo to PNG, in the original's look (BEHAVIOUR §8.2): dark
 * theme, blue line (red when the final equity is below the starting one), translucent area,
 * start/end/peak markers, `Peak: NT$N`, a title with return, max drawdown and start -> end
 * equity, a subtitle. 1800 x 750 px by default (the original's 12 x 5 in at 150 dpi). Beyond
 * the original: a drawdown panel under the equity, trade markers (entries and exits), dates
 * with the year, and closed hours collapsed: a gap between points longer than a trading pause
 * (nights, weekends) takes no room, so no flat stretch is drawn for it; a daily series puts
 * its trading days at equal steps.
 *
 * Every figure on the image comes from report/figures.h, so the chart says what the backtest
 * report and aftm equity list say. Not here: reading files or the database (the CLI does). */
#ifndef AFTM_CHART_H
#define AFTM_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/equity.h"
#include "report/figures.h"

#define CHART_WIDTH 1800
#define CHART_HEIGHT 750

#define CHART_BG 0x0d1117u
#define CHART_UP 0x58a6ffu
#define CHART_DOWN 0xf85149u
#define CHART_MUTED 0x8b949eu
#define CHART_PEAK 0x3fb950u
#define CHART_GRID 0x30363du
#define CHART_TEXT 0xc9d1d9u
#define CHART_DD 0xf85149u
#define CHART_ENTRY 0xe3b341u

typedef enum { CHART_MARK_BUY = 0, CHART_MARK_SELL, CHART_MARK_EXIT_WIN, CHART_MARK_EXIT_LOSS } chart_mark_kind;

typedef struct {
    double t; /* when, in the curve's time (days) */
    chart_mark_kind kind;
} chart_mark;

typedef struct {
    const fig_point *pts;        /* the curve drawn, t in local days, in time order */
    size_t n;
    double base;                 /* the equity before the first point (the capital); NAN: the first point */
    const equity_series *daily;  /* the daily closes the title's figures are of (with base);
                                  * NULL: the points are the daily closes */
    const chart_mark *marks;
    size_t nmarks;
    const char *subtitle;        /* NULL: "<first date> to <last date> (N days)" */
    bool intraday;               /* points within days: a time axis; else one point a day */
    int width, height;           /* <= 0: the defaults */
} chart_input;

/* Where the data lands on the image (pixels; y grows downwards). */
typedef struct {
    int width, height;
    double left, top, right, bottom; /* the equity panel */
    double dd_top, dd_bottom;        /* the drawdown panel, under it, same left and right */
    double x0, x1;                   /* the axis range (collapsed time, see chart_axis_x) */
    double y0, y1;                   /* equity range shown */
    double dd0;                      /* drawdown range shown: dd0 (< 0) .. 0 % */
    double floor;                    /* the area is filled down to min x 0.995 */
    uint32_t line_rgb;
    double gap_max;                  /* a gap longer than this (days) is collapsed ... */
    double gap_shown;                /* ... to this */
    double *gap_end, *gap_cut;       /* per collapsed gap: the t it ends at, the days cut so far */
    size_t ngaps;
} chart_geom;

/* False for no points or no memory. Free with chart_geom_free. */
bool chart_geometry(const chart_input *in, chart_geom *g);
void chart_geom_free(chart_geom *g);
/* The axis position of a time: t less the closed time cut before it. */
double chart_axis_x(const chart_geom *g, double t);
void chart_map(const chart_geom *g, double t, double equity, double *px, double *py);
void chart_map_dd(const chart_geom *g, double t, double dd_pct, double *px, double *py);

typedef struct {
    fig_curve headline; /* the title's: of the daily closes against the base */
    fig_curve curve;    /* of the points drawn (the drawdown panel's) */
} chart_figures;

/* Renders the PNG; drawn (may be NULL) gets the figures on it. False with err when there is
 * no point or the file cannot be written. */
bool chart_render(const chart_input *in, const char *png_path, chart_figures *drawn, char *err, size_t errlen);
/* A daily series (aftm chart, aftm equity): base NAN means the first row, as the original. */
bool chart_render_daily(const equity_series *s, double base, const char *png_path, int width, int height,
                        chart_figures *drawn, char *err, size_t errlen);

/* Frees cairo's and fontconfig's process-wide font caches (so LeakSanitizer stays quiet). Call
 * only at exit, when no cairo object is alive. */
void chart_release_caches(void);

/* The title line, e.g. "Equity Curve  •  Return: +17.02%  •  Max DD: -2.31%  •  NT$149,995 →
 * NT$175,532"; with intraday, "Max DD: -0.13% (daily closes), -0.21% intraday". */
void chart_title(const fig_curve *headline, const fig_curve *intraday, char *out, size_t cap);
/* "2025-06-01 to 2025-07-09 (39 days)" (days = rows, as the original). */
void chart_subtitle(const fig_curve *daily, char *out, size_t cap);

#endif
