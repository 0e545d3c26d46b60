/* See LICENSE file for copyright and license details. */
/* JSON parsing and event-name normalisation, hostile names included. */
#include <string.h>

#include "event.h"
#include "unit.h"

static void
test_normalise(void)
{
	static const struct {
		const char *raw, *entity, *action;
	} good[] = {
		{ "assets.updated", "assets", "updated" },
		{ "workOrders.inserted", "work_orders", "inserted" },
		{ "work-orders.inserted", "work_orders", "inserted" },
		{ "work_orders.inserted", "work_orders", "inserted" },
		{ "Work Orders.Inserted", "work_orders", "inserted" },
		{ "purchaseOrders.updated", "purchase_orders", "updated" },
		{ "connectionStatuses.deleted", "connection_statuses", "deleted" },
		{ "connection.statuses.deleted", "connection_statuses", "deleted" },
		{ "HTTPStatus.updated", "http_status", "updated" },
		{ "__assets__.updated_", "assets", "updated" },
		{ "a--b__c.x", "a_b_c", "x" },
		{ "sites2.updated", "sites2", "updated" },
		{ "v2Assets.updated", "v2_assets", "updated" },
		{ "ASSETS.UPDATED", "assets", "updated" },
		{ "newThing.reIndexed", "new_thing", "re_indexed" },
		{ "1.2", "1", "2" },
	};
	static const char *const bad[] = {
		"", "assets", "assets.", ".updated", "..", ".",
		"../../etc.updated", "a/b.updated", "assets./updated",
		"assets.up/dated", "assets.upd\\ated", "__.updated", "a.__",
		"assets.updäted", "ass\nets.updated", "assets.up\x01",
		"Ü.updated", "assets.updated\xff", "-.-",
		/* 65 characters of entity, 33 of action */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.x",
		"a.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		/* humps that grow the name past its limit */
		"aAaAaAaAaAaAaAaAaAaAaAaAaAaAaAaAaAaAaAaAaAaAaAaA.x",
	};
	struct event ev;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		int rc = event_normalise(good[i].raw, strlen(good[i].raw), &ev);

		CHECK(good[i].raw, rc == 0 &&
					   strcmp(ev.entity, good[i].entity) == 0 &&
					   strcmp(ev.action, good[i].action) == 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECK(bad[i], event_normalise(bad[i], strlen(bad[i]), &ev) < 0);

	CHECK("NUL inside", event_normalise("assets\0.updated", 15, &ev) < 0);
	CHECK("name joined", event_normalise("workOrders.updated", 18, &ev) == 0 &&
				     strcmp(ev.name, "work_orders.updated") == 0);

	/* 64 and 32 characters are the longest accepted. */
	char longest[64 + 1 + 32 + 1];
	memset(longest, 'e', 64);
	longest[64] = '.';
	memset(longest + 65, 'a', 32);
	longest[97] = '\0';
	CHECK("longest name", event_normalise(longest, 97, &ev) == 0 &&
				      strlen(ev.name) == 97);

	/* A trailing separator goes, so it cannot push a name over its limit. */
	char trailing[64 + 3 + 32 + 2];
	memset(trailing, 'e', 64);
	memcpy(trailing + 64, "-_.", 3);
	memset(trailing + 67, 'a', 32);
	memcpy(trailing + 99, " ", 2);
	CHECK("longest name, trailing separators",
	      event_normalise(trailing, 100, &ev) == 0 && strlen(ev.name) == 97);

	char raw[RAW_EVENT_MAX + 2];
	memset(raw, '_', sizeof(raw));
	raw[0] = 'a';
	raw[RAW_EVENT_MAX - 1] = '.';
	raw[RAW_EVENT_MAX] = 'b';
	CHECK("raw over limit", event_normalise(raw, RAW_EVENT_MAX + 1, &ev) < 0);
}

static int
parse(const char *body, size_t len, struct event *ev)
{
	struct reply rep = { 0 };

	return (int)event_parse(body, len, ev, &rep);
}

static void
test_parse(void)
{
	static const struct {
		const char *body;
		int status;
	} cases[] = {
		{ "{\"event\":\"assets.updated\",\"body\":[\"a1\",\"a2\"]}",
		  200 },
		{ "  {\"event\": \"sites.inserted\"}\n", 200 },
		{ "{\"body\":[],\"event\":\"workOrders.updated\"}", 200 },
		{ "{\"event\":\"assets.updated\"} x", 400 },
		{ "{\"event\":\"assets.updated\"}{}", 400 },
		{ "[\"event\",\"assets.updated\"]", 400 },
		{ "\"assets.updated\"", 400 },
		{ "", 400 },
		{ "{", 400 },
		{ "{\"event\":\"assets.updated\",}", 400 },
		{ "{'event':'assets.updated'}", 400 },
		{ "{\"event\":\"assets.updated\" /* */}", 400 },
		{ "{\"event\":\"\xff\xfe.updated\"}", 400 },
		{ "{\"event\":\"a.b\",\"x\":\"\xc3\x28\"}", 400 },
		{ "{}", 422 },
		{ "{\"event\":null}", 422 },
		{ "{\"event\":42}", 422 },
		{ "{\"event\":[\"assets.updated\"]}", 422 },
		{ "{\"event\":\"assets\"}", 422 },
		{ "{\"event\":\"../../etc/passwd.updated\"}", 422 },
		{ "{\"event\":\"assets\\u0000.updated\"}", 422 },
		{ "{\"event\":\"assets\\/x.updated\"}", 422 },
		{ "{\"Event\":\"assets.updated\"}", 422 },
		/* A repeated "event" key, however spelt, is ambiguous. */
		{ "{\"event\":\"assets.updated\",\"event\":\"sites.deleted\"}",
		  422 },
		{ "{\"event\":\"a.b\",\"ev\\u0065nt\":\"a.b\"}", 422 },
		{ "{\"\\u0065\\u0076\\u0045nt\":1,\"event\":\"a.b\"}", 200 },
		{ "{\"event\" : \"a.b\", \"x\":0, \"\\u0065vent\"\t:null}",
		  422 },
		{ "{\"event\":\"a.b\",\"body\":{\"event\":\"c.d\"}}", 200 },
		{ "{\"event\":\"a.b\",\"body\":[{\"event\":1},\"event\"]}",
		  200 },
		{ "{\"event\":\"a.b\",\"x\":\"\\\"event\\\":\"}", 200 },
		{ "{\"event\":\"a.b\",\"event\\\\\":1,\"event\\n\":1}", 200 },
		{ "{\"x\":\"event\",\"event\":\"a.b\"}", 200 },
		/* Backslashes before a quote: an even run ends the string. */
		{ "{\"x\":\"a\\\\\",\"event\":\"a.b\",\"event\":\"c.d\"}",
		  422 },
		{ "{\"x\":\"\\\\\\\"event\\\":\",\"event\":\"a.b\"}", 200 },
		{ "{\"x\":\"\\\\\\\\\",\"event\":1,\"event\":\"a.b\"}", 422 },
		/* Non-ASCII bodies are checked as UTF-8; ASCII ones need not be. */
		{ "{\"event\":\"a.b\",\"name\":\"Pump \xc3\xa4\xe2\x82\xac\"}",
		  200 },
		{ "{\"event\":\"a.b\",\"name\":\"\xe2\x82\"}", 400 },
	};
	struct event ev;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		CHECK(cases[i].body, parse(cases[i].body, strlen(cases[i].body),
					   &ev) == cases[i].status);

	CHECK("NUL after the object",
	      parse("{\"event\":\"a.b\"}\0", 16, &ev) == 400);

	/* Nesting: JSON_DEPTH_MAX levels parse, one more does not. */
	char deep[2 * JSON_DEPTH_MAX + 64];
	size_t n = 0;
	n += (size_t)sprintf(deep, "{\"event\":\"a.b\",\"x\":");
	for (int i = 0; i < JSON_DEPTH_MAX - 2; i++)
		deep[n++] = '[';
	for (int i = 0; i < JSON_DEPTH_MAX - 2; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	CHECK("deepest nesting", parse(deep, n, &ev) == 200);

	n = 0;
	n += (size_t)sprintf(deep, "{\"event\":\"a.b\",\"x\":");
	for (int i = 0; i < JSON_DEPTH_MAX; i++)
		deep[n++] = '[';
	for (int i = 0; i < JSON_DEPTH_MAX; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	CHECK("nesting too deep", parse(deep, n, &ev) == 400);

	/* The parser is reused: a good body still parses after bad ones. */
	CHECK("after errors",
	      parse("{\"event\":\"locations.updated\"}", 29, &ev) == 200 &&
		      strcmp(ev.name, "locations.updated") == 0);
}

int
main(void)
{
	test_normalise();
	test_parse();
	return unit_report();
}
