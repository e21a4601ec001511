/* aftm exchange: the simulated exchange process. The subcommand's entry point; the
 * socket-free logic is in exchange.h. */
#ifndef AFTM_EXCHANGE_MAIN_H
#define AFTM_EXCHANGE_MAIN_H

/* argv[0] is the subcommand name. Exit codes: core/exit_codes.h. */
int cmd_exchange(int argc, char **argv);

#endif
