/* The CURVE key store (see curve.h): making, reading and allowing keys. */
#include "net/curve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

static const char *const ROLE_NAMES[ROLE_COUNT] = {"exchange", "gateway", "strategy", "executor", "cli"};

const char *net_role_name(net_role r) { return r >= 0 && r < ROLE_COUNT ? ROLE_NAMES[r] : "?"; }

bool net_role_parse(const char *name, net_role *out) {
    for (int i = 0; i < ROLE_COUNT; i++)
        if (name && !strcmp(name, ROLE_NAMES[i])) {
            *out = (net_role)i;
            return true;
        }
    return false;
}

bool curve_key_valid(const char *s) {
    if (!s || strlen(s) != CURVE_KEY_Z85 - 1) return false;
    uint8_t raw[32];
    return zmq_z85_decode(raw, s) != NULL;
}

void curve_path(const char *home, const char *name, char *out, size_t cap) {
    if (name && *name) snprintf(out, cap, "%s/keys/%s", home, name);
    else snprintf(out, cap, "%s/keys", home);
}

/* The keys directory (and allowed/ in it), 0700 even when it existed with wider rights. */
static bool ensure_dirs(const char *home, char *err, size_t errlen) {
    char path[1200];
    curve_path(home, "", path, sizeof path);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) curve_path(home, "allowed", path, sizeof path);
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return false;
        }
        if (chmod(path, 0700) != 0) {
            snprintf(err, errlen, "cannot restrict %s to its owner: %s", path, strerror(errno));
            return false;
        }
    }
    return true;
}

/* Writes text to a new private temporary file beside path; its name in tmp. */
static bool write_private(const char *path, const char *text, char *tmp, size_t tmpcap, char *err, size_t errlen) {
    snprintf(tmp, tmpcap, "%s.tmp.%ld", path, (long)getpid());
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return false;
    }
    size_t len = strlen(text);
    bool ok = fchmod(fd, 0600) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    if (!ok) snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && ok) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        ok = false;
    }
    if (!ok) unlink(tmp);
    return ok;
}

static void cert_text(net_role role, const curve_pair *p, bool secret, char *out, size_t cap) {
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    int n = snprintf(out, cap,
                     "#   ****  Generated on %s by aftm  ****\n"
                     "#   ZeroMQ CURVE %s Certificate\n"
                     "#   %s\n\n"
                     "metadata\n    role = \"%s\"\ncurve\n    public-key = \"%s\"\n",
                     when, secret ? "**Secret**" : "Public",
                     secret ? "DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions."
                            : "Give this file to the hosts that must let this role in (aftm keys allow).",
                     net_role_name(role), p->public_key);
    if (secret && n > 0 && (size_t)n < cap) snprintf(out + n, cap - (size_t)n, "    secret-key = \"%s\"\n", p->secret_key);
}

/* Finds `name = "VALUE"` (or, with name NULL, a line that is only a key) in text. */
static bool find_key(const char *text, const char *name, char out[CURVE_KEY_Z85]) {
    const char *line = text;
    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t')) len--;
        const char *s = line;
        while (len && (*s == ' ' || *s == '\t')) s++, len--;
        char cand[CURVE_KEY_Z85] = "";
        if (name) {
            size_t nl = strlen(name);
            if (len > nl && !strncmp(s, name, nl)) {
                const char *q = memchr(s + nl, '"', len - nl);
                if (q && (size_t)(s + len - q) == CURVE_KEY_Z85 + 1 && s[len - 1] == '"') {
                    memcpy(cand, q + 1, CURVE_KEY_Z85 - 1);
                    cand[CURVE_KEY_Z85 - 1] = '\0';
                }
            }
        } else if (len == CURVE_KEY_Z85 - 1 && *s != '#') {
            memcpy(cand, s, len);
            cand[len] = '\0';
        }
        if (cand[0] && curve_key_valid(cand)) {
            memcpy(out, cand, CURVE_KEY_Z85);
            return true;
        }
        line = end ? end + 1 : NULL;
    }
    return false;
}

static bool read_small(const char *path, char *buf, size_t cap, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return false;
    }
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    bool ok = !ferror(f);
    fclose(f);
    if (!ok) snprintf(err, errlen, "cannot read %s", path);
    return ok;
}

static bool load_pair_file(const char *home, net_role role, curve_pair *out, char *err, size_t errlen) {
    char path[1200], text[2048];
    char name[64];
    snprintf(name, sizeof name, "%s.key_secret", net_role_name(role));
    curve_path(home, name, path, sizeof path);
    if (!read_small(path, text, sizeof text, err, errlen)) return false;
    if (!find_key(text, "public-key", out->public_key) || !find_key(text, "secret-key", out->secret_key)) {
        snprintf(err, errlen, "%s holds no valid public-key and secret-key (make new ones: aftm keys init --force)",
                 path);
        return false;
    }
    return true;
}

/* The role's pair: made and linked into place unless it exists (or force). */
static bool make_pair(const char *home, net_role role, bool force, bool *made, char *err, size_t errlen) {
    char path[1200], tmp[1300], name[64], text[2048];
    *made = false;
    snprintf(name, sizeof name, "%s.key_secret", net_role_name(role));
    curve_path(home, name, path, sizeof path);
    if (!force && access(path, F_OK) == 0) return true;
    curve_pair p;
    if (zmq_curve_keypair(p.public_key, p.secret_key) != 0) {
        snprintf(err, errlen, "cannot make a CURVE key pair: %s (libzmq without CURVE?)", zmq_strerror(zmq_errno()));
        return false;
    }
    cert_text(role, &p, true, text, sizeof text);
    memset(&p, 0, sizeof p);
    if (!write_private(path, text, tmp, sizeof tmp, err, errlen)) return false;
    memset(text, 0, sizeof text);
    /* link() fails when another process made the pair first: then theirs is the pair */
    int rc = force ? rename(tmp, path) : link(tmp, path);
    int e = errno;
    if (!force) unlink(tmp);
    if (rc != 0 && !(e == EEXIST && !force)) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(e));
        return false;
    }
    *made = rc == 0;
    return true;
}

/* ROLE.key, the public half, written from the pair on disk (the same text for everyone). */
static bool write_public(const char *home, net_role role, char *err, size_t errlen) {
    curve_pair p;
    if (!load_pair_file(home, role, &p, err, errlen)) return false;
    char path[1200], tmp[1300], name[64], text[2048];
    snprintf(name, sizeof name, "%s.key", net_role_name(role));
    curve_path(home, name, path, sizeof path);
    cert_text(role, &p, false, text, sizeof text);
    memset(&p, 0, sizeof p);
    if (!write_private(path, text, tmp, sizeof tmp, err, errlen)) return false;
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        unlink(tmp);
        return false;
    }
    return true;
}

bool curve_keys_ensure(const char *home, bool force, int *created, char *err, size_t errlen) {
    if (created) *created = 0;
    if (!ensure_dirs(home, err, errlen)) return false;
    for (int r = 0; r < ROLE_COUNT; r++) {
        bool made;
        if (!make_pair(home, (net_role)r, force, &made, err, errlen)) return false;
        char path[1200], name[64];
        snprintf(name, sizeof name, "%s.key", net_role_name((net_role)r));
        curve_path(home, name, path, sizeof path);
        if ((made || access(path, F_OK) != 0) && !write_public(home, (net_role)r, err, errlen)) return false;
        if (made && created) (*created)++;
    }
    return true;
}

bool curve_pair_load(const char *home, net_role role, curve_pair *out, char *err, size_t errlen) {
    if (!curve_keys_ensure(home, false, NULL, err, errlen)) return false;
    return load_pair_file(home, role, out, err, errlen);
}

/* The allowed keys of role, in the order they were added. */
static int read_allowed(const char *home, net_role role, char (*keys)[CURVE_KEY_Z85], int cap, char *err,
                        size_t errlen) {
    char path[1200], name[64];
    snprintf(name, sizeof name, "allowed/%s", net_role_name(role));
    curve_path(home, name, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    int n = 0;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char key[CURVE_KEY_Z85];
        if (find_key(line, NULL, key) && n < cap) memcpy(keys[n++], key, CURVE_KEY_Z85);
    }
    fclose(f);
    return n;
}

int curve_admitted(const char *home, net_role role, char (*keys)[CURVE_KEY_Z85], int cap, char *err, size_t errlen) {
    if (cap < 1) return 0;
    curve_pair p;
    if (!curve_pair_load(home, role, &p, err, errlen)) return -1;
    memcpy(keys[0], p.public_key, CURVE_KEY_Z85);
    memset(&p, 0, sizeof p);
    int n = read_allowed(home, role, keys + 1, cap - 1, err, errlen);
    return n < 0 ? -1 : n + 1;
}

bool curve_server_key(const char *home, net_role role, char out[CURVE_KEY_Z85], char *err, size_t errlen) {
    char keys[64][CURVE_KEY_Z85];
    int n = read_allowed(home, role, keys, 64, err, errlen);
    if (n < 0) return false;
    if (n > 0) {
        memcpy(out, keys[n - 1], CURVE_KEY_Z85);
        return true;
    }
    curve_pair p;
    if (!curve_pair_load(home, role, &p, err, errlen)) return false;
    memcpy(out, p.public_key, CURVE_KEY_Z85);
    memset(&p, 0, sizeof p);
    return true;
}

bool curve_allow(const char *home, net_role role, const char *file, bool *added, char *err, size_t errlen) {
    *added = false;
    char text[4096], key[CURVE_KEY_Z85];
    if (!read_small(file, text, sizeof text, err, errlen)) return false;
    if (strstr(text, "secret-key")) {
        snprintf(err, errlen, "%s holds a secret key: give the public file (ROLE.key), never ROLE.key_secret", file);
        memset(text, 0, sizeof text);
        return false;
    }
    if (!find_key(text, "public-key", key) && !find_key(text, NULL, key)) {
        snprintf(err, errlen, "%s holds no CURVE public key (a zcert file, or a line with the 40-character Z85 key)",
                 file);
        return false;
    }
    if (!ensure_dirs(home, err, errlen)) return false;
    char have[64][CURVE_KEY_Z85];
    int n = read_allowed(home, role, have, 64, err, errlen);
    if (n < 0) return false;
    for (int i = 0; i < n; i++)
        if (!strcmp(have[i], key)) return true;
    if (n >= 63) {
        snprintf(err, errlen, "too many allowed keys for %s (63 at most)", net_role_name(role));
        return false;
    }
    char path[1200], name[64];
    snprintf(name, sizeof name, "allowed/%s", net_role_name(role));
    curve_path(home, name, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    char line[CURVE_KEY_Z85 + 1];
    snprintf(line, sizeof line, "%s\n", key);
    bool ok = fchmod(fd, 0600) == 0 && write(fd, line, CURVE_KEY_Z85) == CURVE_KEY_Z85 && fsync(fd) == 0;
    if (!ok) snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    close(fd);
    *added = ok;
    return ok;
}
