/* bench_request_cost: N keep-alive GETs through one HTTP session over the memory transport
 * (tests/support/mem_transport.h), answered by a `respond` handler: no sockets, no loop, so
 * valgrind --tool=callgrind counts exactly the instructions the engine spends per request.
 *
 * Usage: bench_request_cost [N] [browser] [journal]
 * Run it twice (N and 2N requests) under callgrind; the difference of the two totals over N is
 * the cost of one request, start-up excluded:
 *   valgrind --tool=callgrind bench_request_cost 1000; ... 2000
 * "browser" sends a 500-byte head like a browser's instead of a bare GET with a Host;
 * "journal" gives the server a request journal (capacity 10,000, drop_oldest). */
#include "mem_transport.h"

#include "hostpool/hostpool.h"
#include "http/context.h"
#include "http/server.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char bare[] = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
static const char browser[] =
    "GET /index.html?utm=1 HTTP/1.1\r\n"
    "Host: bench.localhost:8080\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Site: none\r\n"
    "\r\n";

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
    bool browser_head = false, journal = false;
    for (int i = 2; i < argc; i++) {
        browser_head |= strcmp(argv[i], "browser") == 0;
        journal |= strcmp(argv[i], "journal") == 0;
    }
    const char *request = browser_head ? browser : bare;
    static const char *const listen[] = {"127.0.0.1:0"};
    hp_route_config route = {.handler = hp_respond_handler_create(200, "ok\n", 3, NULL, 0)};
    hp_server_config config = {.name = "bench",
                               .listen = listen,
                               .listen_count = 1,
                               .routes = &route,
                               .route_count = 1,
                               .journal = {.capacity = journal ? 10000 : 0}};
    hp_limits_init(&config.limits);
    hp_server *server;
    if (hp_server_create(&config, &server, NULL, 0) != 0) return 1;
    hp__server_attach_journal(server, 1);
    hp__http_context ctx;
    hp__http_context_init(&ctx, 0);
    hp__server_journal_published(&ctx, server);
    mem_transport *m = mem_transport_create(&ctx, server);
    size_t len = strlen(request);
    for (long i = 0; i < n; i++) {
        if (mem_transport_feed(m, request, len) != len || m->closed) return 1;
        mem_transport_clear_output(m);
    }
    mem_transport_destroy(m);
    hp__http_context_close(&ctx);
    hp_server_destroy(server);
    printf("%ld requests\n", n);
    return 0;
}
