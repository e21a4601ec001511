/* The CURVE key store under the data directory: one key pair per role (exchange, gateway,
 * strategy, executor, cli) and, per role, the public keys of peers on other hosts that were
 * allowed in. Files only: which socket uses which key is net/secure.h's business.
 *
 * Layout (the directory 0700, every file 0600; text in CZMQ's zcert format, so `zcert` and
 * pyzmq's zmq.auth.load_certificate read them):
 *   HOME/keys/ROLE.key_secret   the role's pair (public-key and secret-key, Z85)
 *   HOME/keys/ROLE.key          the role's public key, to copy to another host
 *   HOME/keys/allowed/ROLE      public keys allowed in as ROLE, one Z85 key a line; the last
 *                               one is also the key a client expects of ROLE's server */
#ifndef AFTM_CURVE_H
#define AFTM_CURVE_H

#include <stdbool.h>
#include <stddef.h>

#define CURVE_KEY_Z85 41 /* 40 Z85 characters and the NUL */

typedef enum { ROLE_EXCHANGE, ROLE_GATEWAY, ROLE_STRATEGY, ROLE_EXECUTOR, ROLE_CLI, ROLE_COUNT } net_role;

typedef struct {
    char public_key[CURVE_KEY_Z85];
    char secret_key[CURVE_KEY_Z85];
} curve_pair;

const char *net_role_name(net_role r);
/* "gateway" -> ROLE_GATEWAY; false for anything else. */
bool net_role_parse(const char *name, net_role *out);

/* true when s is 40 Z85 characters that decode to a 32-byte key. */
bool curve_key_valid(const char *s);

/* Makes the pair of every role that has none yet (force: a new pair for every role). Safe when
 * several processes do it at once: each pair is written to a temporary file and linked into
 * place, so all of them end up with the same pair. created: how many pairs were made. */
bool curve_keys_ensure(const char *home, bool force, int *created, char *err, size_t errlen);

/* The role's own pair (made first if missing). */
bool curve_pair_load(const char *home, net_role role, curve_pair *out, char *err, size_t errlen);

/* Public keys admitted as role: its own pair's and the allowed ones. Returns how many were
 * written to keys (up to cap), -1 with err when the store cannot be read. */
int curve_admitted(const char *home, net_role role, char (*keys)[CURVE_KEY_Z85], int cap, char *err, size_t errlen);

/* The public key a client expects of role's server: the last allowed key of role, else the
 * role's own pair's (all processes on one host). */
bool curve_server_key(const char *home, net_role role, char out[CURVE_KEY_Z85], char *err, size_t errlen);

/* Reads a public key from file (a zcert file, or a line holding only the Z85 key) and adds it
 * to role's allowed keys; *added false when it was there already. */
bool curve_allow(const char *home, net_role role, const char *file, bool *added, char *err, size_t errlen);

/* The path of a file in the store: "" name = the keys directory itself. */
void curve_path(const char *home, const char *name, char *out, size_t cap);

#endif
