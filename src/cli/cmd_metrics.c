/* `hostpool metrics`: GET /metrics, the Prometheus text exposition printed as it comes (there
 * is no other form, so --json changes nothing). */
#include "cli/cli.h"
#include "cli/client.h"

#include <stdio.h>

int hp__cmd_metrics(int argc, char **argv)
{
    const hp__client_verb verb = {
        .usage = {.command = "metrics",
                  .synopsis = "metrics",
                  .help =
                      "\n"
                      "Prints the Prometheus text of every server, the pool and the process (GET\n"
                      "/metrics; docs/METRICS.md lists each metric).\n"}};
    hp__client c;
    int status;
    if (!hp__client_init(&c, &verb, argc, argv, &status)) return status;
    hp__admin_request req = {.method = "GET", .path = "/metrics"};
    hp__admin_response resp;
    status = hp__client_call(&c, &req, &resp);
    if (status == HP__EXIT_OK) {
        fwrite(resp.body, 1, resp.body_len, stdout);
        hp__admin_response_close(&resp);
    }
    hp__client_close(&c);
    return status;
}
