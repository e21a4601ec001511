/* The strategy process's entry point: `aftm strategy` (arguments, sockets, the loop). Its
 * logic is in strategy_core.h. */
#ifndef AFTM_APP_STRATEGY_H
#define AFTM_APP_STRATEGY_H

/* argv[0] is the subcommand name. Exit codes: 0 ok, 1 failure at run time, 2 bad usage. */
int cmd_strategy(int argc, char **argv);

#endif
