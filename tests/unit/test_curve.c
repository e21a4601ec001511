/* The CURVE key store (net/curve.h) and the link table (net/secure.h): pairs made once and
 * private, a peer's key allowed from a public file and refused from a secret one, the server
 * key a client expects, and which roles each link admits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "net/curve.h"
#include "net/secure.h"
#include "testkit.h"

static mode_t mode_of(const char *home, const char *name) {
    char path[256];
    curve_path(home, name, path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void pairs_are_made_once_and_private(void **state) {
    (void)state;
    tk_home h;
    tk_home_make(&h, "curve");
    char err[512];
    int created = -1;
    assert_true(curve_keys_ensure(h.path, false, &created, err, sizeof err));
    assert_int_equal(created, ROLE_COUNT);
    assert_int_equal(mode_of(h.path, ""), 0700);
    assert_int_equal(mode_of(h.path, "gateway.key_secret"), 0600);
    assert_int_equal(mode_of(h.path, "gateway.key"), 0600);
    curve_pair a, b;
    assert_true(curve_pair_load(h.path, ROLE_GATEWAY, &a, err, sizeof err));
    assert_true(curve_key_valid(a.public_key));
    assert_true(curve_key_valid(a.secret_key));
    /* a second run keeps them */
    assert_true(curve_keys_ensure(h.path, false, &created, err, sizeof err));
    assert_int_equal(created, 0);
    assert_true(curve_pair_load(h.path, ROLE_GATEWAY, &b, err, sizeof err));
    assert_string_equal(a.public_key, b.public_key);
    /* --force: new ones */
    assert_true(curve_keys_ensure(h.path, true, &created, err, sizeof err));
    assert_int_equal(created, ROLE_COUNT);
    assert_true(curve_pair_load(h.path, ROLE_GATEWAY, &b, err, sizeof err));
    assert_string_not_equal(a.public_key, b.public_key);
    /* the server key of a role with no allowed peer: its own pair's */
    char server[CURVE_KEY_Z85];
    assert_true(curve_server_key(h.path, ROLE_GATEWAY, server, err, sizeof err));
    assert_string_equal(server, b.public_key);
    tk_home_remove(&h);
}

static void a_peer_key_is_allowed_from_its_public_file(void **state) {
    (void)state;
    tk_home here, there;
    tk_home_make(&here, "curve-a");
    tk_home_make(&there, "curve-b");
    char err[512], path[256];
    assert_true(curve_keys_ensure(here.path, false, NULL, err, sizeof err));
    assert_true(curve_keys_ensure(there.path, false, NULL, err, sizeof err));
    curve_pair peer, own;
    assert_true(curve_pair_load(there.path, ROLE_GATEWAY, &peer, err, sizeof err));
    assert_true(curve_pair_load(here.path, ROLE_GATEWAY, &own, err, sizeof err));

    /* the secret file is refused: a secret never travels */
    curve_path(there.path, "gateway.key_secret", path, sizeof path);
    bool added = true;
    assert_false(curve_allow(here.path, ROLE_GATEWAY, path, &added, err, sizeof err));
    assert_non_null(strstr(err, "secret"));
    /* a file without a key */
    snprintf(path, sizeof path, "%s/nothing.key", here.path);
    write_file(path, "hello\npublic-key = \"tooshort\"\n");
    assert_false(curve_allow(here.path, ROLE_GATEWAY, path, &added, err, sizeof err));
    /* the public zcert file */
    curve_path(there.path, "gateway.key", path, sizeof path);
    assert_true(curve_allow(here.path, ROLE_GATEWAY, path, &added, err, sizeof err));
    assert_true(added);
    assert_true(curve_allow(here.path, ROLE_GATEWAY, path, &added, err, sizeof err));
    assert_false(added); /* once */
    assert_int_equal(mode_of(here.path, "allowed/gateway"), 0600);

    char keys[8][CURVE_KEY_Z85];
    assert_int_equal(curve_admitted(here.path, ROLE_GATEWAY, keys, 8, err, sizeof err), 2);
    assert_string_equal(keys[0], own.public_key);
    assert_string_equal(keys[1], peer.public_key);
    /* the allowed key is the one a client here expects of the gateway (it runs there) */
    char server[CURVE_KEY_Z85];
    assert_true(curve_server_key(here.path, ROLE_GATEWAY, server, err, sizeof err));
    assert_string_equal(server, peer.public_key);
    /* a bare Z85 line works too, and the last allowed is the server key */
    curve_pair other;
    assert_true(curve_pair_load(there.path, ROLE_EXECUTOR, &other, err, sizeof err));
    snprintf(path, sizeof path, "%s/bare.key", here.path);
    char line[64];
    snprintf(line, sizeof line, "  %s\n", other.public_key);
    write_file(path, line);
    assert_true(curve_allow(here.path, ROLE_GATEWAY, path, &added, err, sizeof err));
    assert_true(curve_server_key(here.path, ROLE_GATEWAY, server, err, sizeof err));
    assert_string_equal(server, other.public_key);
    /* other roles are untouched */
    assert_int_equal(curve_admitted(here.path, ROLE_EXECUTOR, keys, 8, err, sizeof err), 1);
    tk_home_remove(&here);
    tk_home_remove(&there);
}

static void each_link_admits_its_roles_only(void **state) {
    (void)state;
    assert_true(net_link_admits(LINK_ORDERS, ROLE_EXECUTOR));
    assert_true(net_link_admits(LINK_ORDERS, ROLE_CLI));
    assert_false(net_link_admits(LINK_ORDERS, ROLE_STRATEGY));
    assert_false(net_link_admits(LINK_ORDERS, ROLE_GATEWAY));
    assert_true(net_link_admits(LINK_SIGNALS, ROLE_STRATEGY));
    assert_false(net_link_admits(LINK_SIGNALS, ROLE_CLI));
    assert_true(net_link_admits(LINK_TICKS, ROLE_STRATEGY));
    assert_false(net_link_admits(LINK_TICKS, ROLE_EXCHANGE));
    assert_true(net_link_admits(LINK_MARKET, ROLE_GATEWAY));
    assert_false(net_link_admits(LINK_MARKET, ROLE_CLI));
    assert_true(net_link_admits(LINK_EXCHANGE, ROLE_CLI));
    assert_false(net_link_admits(LINK_EXCHANGE, ROLE_EXECUTOR));
    assert_false(net_link_admits(LINK_NONE, ROLE_CLI));
}

static void user_ids_and_binds(void **state) {
    (void)state;
    net_role r;
    char key[CURVE_KEY_Z85];
    char pub[CURVE_KEY_Z85], sec[CURVE_KEY_Z85], user[64];
    tk_home h;
    tk_home_make(&h, "curve-u");
    char err[512];
    curve_pair p;
    assert_true(curve_pair_load(h.path, ROLE_CLI, &p, err, sizeof err));
    memcpy(pub, p.public_key, sizeof pub);
    memcpy(sec, p.secret_key, sizeof sec);
    snprintf(user, sizeof user, "executor %s", pub);
    assert_true(net_user_parse(user, &r, key));
    assert_int_equal(r, ROLE_EXECUTOR);
    assert_string_equal(key, pub);
    assert_false(net_user_parse(NULL, &r, key));
    assert_false(net_user_parse("", &r, key));
    assert_false(net_user_parse("root abc", &r, key));
    assert_false(net_user_parse("cli tooshort", &r, key));
    /* plain text binds loopback only; CURVE anywhere */
    assert_true(net_bind_check("tcp://127.0.0.1:5555", true, err, sizeof err));
    assert_true(net_bind_check("ipc:///tmp/x", true, err, sizeof err));
    assert_false(net_bind_check("tcp://0.0.0.0:5555", true, err, sizeof err));
    assert_non_null(strstr(err, "plain text"));
    assert_true(net_bind_check("tcp://0.0.0.0:5555", false, err, sizeof err));
    (void)sec;
    tk_home_remove(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pairs_are_made_once_and_private),
        cmocka_unit_test(a_peer_key_is_allowed_from_its_public_file),
        cmocka_unit_test(each_link_admits_its_roles_only),
        cmocka_unit_test(user_ids_and_binds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
