/* Every subcommand's entry point: argv[0] is the subcommand name. Exit codes: 0 ok,
 * 1 failure at run time, 2 bad usage or bad input. */
#ifndef AFTM_COMMANDS_H
#define AFTM_COMMANDS_H

#include "app/exchange/exchange_main.h"
#include "app/executor/executor.h"
#include "app/gateway/gateway_main.h"
#include "app/launch/run.h"
#include "app/strategy/strategy.h"
#include "core/exit_codes.h"

typedef int (*command_fn)(int argc, char **argv);

typedef struct {
    const char *name;
    command_fn fn;
    const char *summary;
} command;

/* The table main() dispatches on, terminated by a NULL name. */
extern const command aftm_commands[];

int cmd_conform(int argc, char **argv);
int cmd_condition(int argc, char **argv);
int cmd_orders(int argc, char **argv);
int cmd_fills(int argc, char **argv);
int cmd_positions(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_flatten(int argc, char **argv);
int cmd_risk(int argc, char **argv);
int cmd_order_cancel(int argc, char **argv);
int cmd_chart(int argc, char **argv);
int cmd_equity(int argc, char **argv);
int cmd_backtest(int argc, char **argv);
int cmd_optimize(int argc, char **argv);
int cmd_menu(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_item(int argc, char **argv);
int cmd_account(int argc, char **argv);
int cmd_futures(int argc, char **argv);
int cmd_order(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_session_host(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_logs(int argc, char **argv);

#endif
