/* Writes a day of synthetic ticks for the backtest benchmark: `gen_ticks plain N OUT` (the
 * datetime,symbol,price,volume CSV) or `gen_ticks taifex N OUT HEADER_FROM` (TAIFEX's daily
 * layout, CRLF, space-padded codes, with the CP950 header line copied from a real file). The
 * price is a seeded random walk around 22000, one tick every 18 ms of the day session. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 4 || (strcmp(argv[1], "plain") && strcmp(argv[1], "taifex")) || (!strcmp(argv[1], "taifex") && argc < 5)) {
        fprintf(stderr, "usage: gen_ticks plain|taifex ROWS OUT [HEADER_FROM]\n");
        return 2;
    }
    bool taifex = !strcmp(argv[1], "taifex");
    long rows = atol(argv[2]);
    FILE *out = fopen(argv[3], "wb");
    if (!out) {
        perror(argv[3]);
        return 1;
    }
    static char buf[1 << 20];
    setvbuf(out, buf, _IOFBF, sizeof buf);
    if (taifex) {
        FILE *h = fopen(argv[4], "rb");
        char line[1024];
        if (!h || !fgets(line, sizeof line, h)) {
            fprintf(stderr, "gen_ticks: cannot read a header line from %s\n", argv[4]);
            return 1;
        }
        fclose(h);
        fputs(line, out);
    } else {
        fputs("datetime,symbol,price,volume\n", out);
    }
    uint64_t rng = 20261124;
    long price = 22000;
    for (long i = 0; i < rows; i++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        price += (long)((rng >> 33) % 5) - 2;
        long ms = 8 * 3600000L + 45 * 60000L + i * 18; /* from 08:45:00 */
        int h = (int)(ms / 3600000), m = (int)(ms / 60000 % 60), s = (int)(ms / 1000 % 60);
        if (taifex)
            fprintf(out, "20250617,TX     ,202507     ,%02d%02d%02d,%ld,%d,-,-,\r\n", h, m, s, price, 1 + (int)(rng >> 60));
        else
            fprintf(out, "2025-06-17 %02d:%02d:%02d.%06ld,TXFF5,%ld,%d\n", h, m, s, (ms % 1000) * 1000, price,
                    1 + (int)(rng >> 60));
    }
    return fclose(out) == 0 ? 0 : 1;
}
