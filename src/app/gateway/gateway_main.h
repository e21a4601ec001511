/* aftm gateway: the broker session: ticks, the order port, execution reports. The subcommand's entry point; the
 * socket-free logic is in gateway.h. */
#ifndef AFTM_GATEWAY_MAIN_H
#define AFTM_GATEWAY_MAIN_H

/* argv[0] is the subcommand name. Exit codes: core/exit_codes.h. */
int cmd_gateway(int argc, char **argv);

#endif
