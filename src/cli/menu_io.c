#include "cli/menu_io.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define IDLE_MS 250
#define BUF_MAX 4096

static volatile sig_atomic_t g_int, g_term;
static mio_idle_fn g_idle;
static void *g_idle_ctx;
static char g_buf[BUF_MAX];
static size_t g_len;
static bool g_eof;
static struct sigaction g_old_int, g_old_term, g_old_hup;
static bool g_installed;
static const char *g_prompt; /* the prompt of the read in progress, NULL outside one */
static bool g_secret;

static void on_int(int sig) {
    (void)sig;
    g_int = 1;
}

static void on_term(int sig) {
    (void)sig;
    g_term = 1;
}

void mio_init(mio_idle_fn idle, void *ctx) {
    g_idle = idle;
    g_idle_ctx = ctx;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_int; /* no SA_RESTART: a blocked poll returns EINTR at once */
    sigaction(SIGINT, &sa, &g_old_int);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, &g_old_term);
    sigaction(SIGHUP, &sa, &g_old_hup);
    g_installed = true;
}

void mio_done(void) {
    if (!g_installed) return;
    sigaction(SIGINT, &g_old_int, NULL);
    sigaction(SIGTERM, &g_old_term, NULL);
    sigaction(SIGHUP, &g_old_hup, NULL);
    g_installed = false;
}

bool mio_terminated(void) { return g_term != 0; }

void mio_clear_eof(void) {
    if (isatty(STDIN_FILENO)) g_eof = false;
}

/* Takes one line out of the buffer if there is one. */
static bool take_line(char *buf, size_t cap) {
    char *nl = memchr(g_buf, '\n', g_len);
    if (!nl && !(g_eof && g_len > 0)) return false;
    size_t n = nl ? (size_t)(nl - g_buf) : g_len;
    size_t keep = n < cap - 1 ? n : cap - 1;
    memcpy(buf, g_buf, keep);
    buf[keep] = '\0';
    if (keep && buf[keep - 1] == '\r') buf[keep - 1] = '\0';
    size_t used = nl ? n + 1 : n;
    memmove(g_buf, g_buf + used, g_len - used);
    g_len -= used;
    return true;
}

void mio_above(const char *text) {
    if (!text || !*text) return;
    if (!g_prompt) {
        fputs(text, stdout);
        fflush(stdout);
        return;
    }
    /* on a terminal, back to the start of the prompt's line and clear it; elsewhere a new line */
    fputs(isatty(STDOUT_FILENO) ? "\r\033[K" : "\n", stdout);
    fputs(text, stdout);
    fputs(g_prompt, stdout);
    /* what the terminal already handed over of an unfinished line (never a secret) */
    if (!g_secret && g_len) {
        char *nl = memchr(g_buf, '\n', g_len);
        if (!nl) fwrite(g_buf, 1, g_len, stdout);
    }
    fflush(stdout);
}

mio_status mio_read(const char *prompt, char *buf, size_t cap, bool secret) {
    buf[0] = '\0';
    g_int = 0;
    struct termios old, quiet;
    bool restore = false;
    /* echo off before the prompt shows: whatever is typed once it is visible stays hidden */
    if (secret && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHOE | ECHOK | ECHONL);
        restore = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
    }
    fputs(prompt, stdout);
    fflush(stdout);
    g_prompt = prompt;
    g_secret = secret;
    mio_status st;
    for (;;) {
        if (take_line(buf, cap)) {
            st = MIO_LINE;
            break;
        }
        if (g_term) {
            st = MIO_TERM;
            break;
        }
        if (g_int) {
            g_int = 0;
            g_len = 0; /* what was typed before Ctrl+C is dropped */
            st = MIO_INTERRUPT;
            break;
        }
        if (g_eof) {
            st = MIO_EOF;
            break;
        }
        if (g_len == sizeof g_buf) { /* a line longer than the buffer: keep its start only */
            g_buf[sizeof g_buf - 1] = '\n';
            continue;
        }
        struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
        int n = poll(&pfd, 1, IDLE_MS);
        if (n < 0) {
            if (errno == EINTR) continue;
            g_eof = true;
            continue;
        }
        if (n == 0) {
            if (g_idle) g_idle(g_idle_ctx);
            continue;
        }
        ssize_t m = read(STDIN_FILENO, g_buf + g_len, sizeof g_buf - g_len);
        if (m < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (m <= 0) g_eof = true;
        else g_len += (size_t)m;
    }
    g_prompt = NULL;
    if (restore) tcsetattr(STDIN_FILENO, TCSANOW, &old);
    if (secret || st != MIO_LINE) fputs("\n", stdout);
    fflush(stdout);
    return st;
}
