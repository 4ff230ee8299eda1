/* `hostpool publish SERVER TOPIC JSON`: POST /servers/SERVER/publish with
 * {"topic": TOPIC, "data": JSON}, a message to every connection of the server's pubsub routes
 * subscribed to a pattern matching TOPIC. Prints how many it reached ("reached 3"). JSON must
 * be one JSON value (a string is written with its quotes: '"hi"'). */
#include "cli/cli.h"
#include "cli/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hp__cmd_publish(int argc, char **argv)
{
    const hp__client_verb verb = {
        .usage = {
            .command = "publish",
            .synopsis = "publish SERVER TOPIC JSON",
            .help = "\n"
                    "Publishes JSON (one JSON value) on TOPIC to the WebSocket pubsub routes\n"
                    "of SERVER (POST /servers/SERVER/publish): every connection subscribed\n"
                    "to a pattern matching TOPIC gets {\"type\":\"message\",\"topic\":TOPIC,\n"
                    "\"data\":JSON,\"from\":\"server\"}. Prints how many connections it reached.\n",
            .min_args = 3,
            .max_args = 3}};
    hp__client c;
    int status;
    if (!hp__client_init(&c, &verb, argc, argv, &status)) return status;
    char path[512] = "/servers/";
    json_error_t error;
    json_t *data = json_loads(c.args[2], JSON_DECODE_ANY, &error);
    if (!data) {
        char message[256];
        snprintf(message, sizeof message, "JSON is not valid JSON: %s", error.text);
        status = hp__client_usage_error(&c, &verb, message);
    } else if (!hp__client_escape(path, sizeof path, c.args[0]) ||
               snprintf(path + strlen(path), sizeof path - strlen(path), "/publish") >=
                   (int)(sizeof path - strlen(path))) {
        status = hp__client_usage_error(&c, &verb, "SERVER is too long");
    } else {
        json_t *body = json_pack("{s:s, s:O}", "topic", c.args[1], "data", data);
        char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        json_t *answer;
        status = hp__client_call_json(&c, "POST", path, text, &answer);
        if (answer && !c.json)
            printf("reached %lld\n",
                   (long long)json_integer_value(json_object_get(answer, "reached")));
        json_decref(answer);
        free(text);
        json_decref(body);
    }
    json_decref(data);
    hp__client_close(&c);
    return status;
}
