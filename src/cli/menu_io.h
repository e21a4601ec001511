/* Reading the menu's input a line at a time, without ever blocking the supervisor: while it
 * waits for a key it calls an idle function every ~250 ms. Ctrl+C at a prompt cancels the
 * prompt (the caller goes back to the menu); end of input and SIGTERM/SIGHUP end the menu. */
#ifndef AFTM_MENU_IO_H
#define AFTM_MENU_IO_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    MIO_LINE,      /* a line (without its newline) */
    MIO_EOF,       /* end of input: leave cleanly */
    MIO_INTERRUPT, /* Ctrl+C: back to the menu */
    MIO_TERM,      /* SIGTERM or SIGHUP: leave cleanly */
} mio_status;

typedef void (*mio_idle_fn)(void *ctx);

/* Installs the signal handlers (SIGINT, SIGTERM, SIGHUP) for fd 0. */
void mio_init(mio_idle_fn idle, void *ctx);
/* Restores the terminal and the handlers. */
void mio_done(void);
/* Prints prompt, reads one line into buf (a longer line is cut to cap-1 and the rest dropped).
 * secret: no echo on a terminal, and a newline is printed after. */
mio_status mio_read(const char *prompt, char *buf, size_t cap, bool secret);
/* Prints text (whole lines) above the prompt being read, if any: the prompt line is cleared,
 * text written, the prompt and what was already read of the line shown again, so news from
 * the trading system appears as it happens without a key press. Outside a read: just prints. */
void mio_above(const char *text);
/* After end of input on a terminal (Ctrl+D), lets the next read wait for a line again;
 * elsewhere (a pipe, a file) the end stays. */
void mio_clear_eof(void);
/* true when a termination signal has arrived. */
bool mio_terminated(void);

#endif
