/* The equity chart as the original draws it (BEHAVIOUR §8.2), rendered with cairo to PNG:
 * dark theme, blue line (red when the final equity is below the initial), translucent area,
 * start/end/peak markers, `Peak: $N`, a title with return, max drawdown and start -> end
 * equity, a subtitle with the date range and row count. 1800 x 750 px by default (the
 * original's 12 x 5 in at 150 dpi). */
#ifndef AFTM_CHART_H
#define AFTM_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/equity.h"

#define CHART_WIDTH 1800
#define CHART_HEIGHT 750

#define CHART_BG 0x0d1117u
#define CHART_UP 0x58a6ffu
#define CHART_DOWN 0xf85149u
#define CHART_MUTED 0x8b949eu
#define CHART_PEAK 0x3fb950u
#define CHART_GRID 0x30363du
#define CHART_TEXT 0xc9d1d9u

/* Where the data lands on the image (pixels; y grows downwards). */
typedef struct {
    int width, height;
    double left, top, right, bottom;  /* the plot area */
    double x0, x1;                    /* day range shown */
    double y0, y1;                    /* equity range shown */
    double floor;                     /* the area is filled down to min x 0.995 */
    uint32_t line_rgb;
} chart_geom;

/* False for an empty series. width/height <= 0 mean the defaults. */
bool chart_geometry(const equity_series *s, int width, int height, chart_geom *g);
void chart_map(const chart_geom *g, double day, double equity, double *px, double *py);

/* Renders the PNG. False with err when the series is empty or the file cannot be written. */
bool chart_render_png(const equity_series *s, const char *png_path, int width, int height, char *err,
                      size_t errlen);

/* An intraday curve: x is local time in days since 1970-01-01 (fractional), in order. */
typedef struct {
    double x;
    double equity;
} chart_point;

/* The same chart for a finer curve (a backtest's equity through the day): the x axis shows
 * times of day when the curve spans up to 3 days, dates otherwise; the title's figures come
 * from the points (chart_curve_stats); subtitle NULL means "<first date> to <last date>". */
bool chart_render_curve_png(const chart_point *pts, size_t n, const char *subtitle, const char *png_path, int width,
                            int height, char *err, size_t errlen);
/* Return, drawdown (over every point, the first included), peak of a curve. False when empty. */
bool chart_curve_stats(const chart_point *pts, size_t n, equity_stats *st);

/* Frees cairo's and fontconfig's process-wide font caches (so LeakSanitizer stays quiet). Call
 * only at exit, when no cairo object is alive. */
void chart_release_caches(void);

/* The title line, e.g. "Equity Curve  •  Return: +17.0%  •  Max DD: -2.3%  •  $149,995 → $175,532". */
void chart_title(const equity_stats *st, char *out, size_t cap);
/* "2025-06-01 to 2025-07-09 (39 days)" (days = rows, as the original). */
void chart_subtitle(const equity_stats *st, char *out, size_t cap);

#endif
