#include "cli/home_db.h"

#include <stdio.h>
#include <string.h>

#include "net/secure.h"
#include "store/db.h"

bool home_db_open(home_db *h, const char *home_flag) {
    memset(h, 0, sizeof *h);
    char err[512];
    if (!home_resolve(home_flag, h->home, sizeof h->home, err, sizeof err) ||
        !net_secure_init(h->home, ROLE_CLI, false, err, sizeof err) ||
        !(h->db = db_open(h->home, err, sizeof err))) {
        fprintf(stderr, "aftm: %s\n", err);
        return false;
    }
    if (!(h->cs = cstore_open(h->db))) {
        fprintf(stderr, "aftm: cannot prepare the condition store: %s\n", sqlite3_errmsg(h->db));
        db_close(h->db);
        return false;
    }
    return true;
}

void home_db_close(home_db *h) {
    cstore_close(h->cs);
    db_close(h->db);
    h->cs = NULL;
    h->db = NULL;
}
