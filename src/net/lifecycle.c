#include "net/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop = 0;
static int g_pipe[2] = {-1, -1};
static struct sigaction g_old_int, g_old_term;

static void on_stop(int sig) {
    g_stop = 1;
    if (g_pipe[1] >= 0) {
        int saved = errno;
        unsigned char b = (unsigned char)sig;
        (void)!write(g_pipe[1], &b, 1);
        errno = saved;
    }
}

static void install(struct sigaction *old_int, struct sigaction *old_term) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: zmq_poll and friends return at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, old_int);
    sigaction(SIGTERM, &sa, old_term);
    signal(SIGPIPE, SIG_IGN);
}

void lifecycle_install(void) { install(NULL, NULL); }

bool lifecycle_stopping(void) { return g_stop != 0; }

void lifecycle_request_stop(void) { g_stop = 1; }

int lifecycle_install_wakeup(void) {
    if (pipe(g_pipe) != 0) return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(g_pipe[i], F_SETFL, fcntl(g_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(g_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    install(&g_old_int, &g_old_term);
    return g_pipe[0];
}

int lifecycle_take_signal(void) {
    unsigned char sig = 0;
    if (g_pipe[0] < 0 || read(g_pipe[0], &sig, 1) != 1) return 0;
    return sig;
}

void lifecycle_restore(void) {
    sigaction(SIGINT, &g_old_int, NULL);
    sigaction(SIGTERM, &g_old_term, NULL);
    for (int i = 0; i < 2; i++) {
        if (g_pipe[i] >= 0) close(g_pipe[i]);
        g_pipe[i] = -1;
    }
    g_stop = 0;
}
