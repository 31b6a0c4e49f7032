/*
 * fuzz_decode_graph.c - libFuzzer harness for the Microsoft Graph (Teams)
 * change notification decoder.
 *
 * Input: one message as the graph input format receives it. The decoder is
 * a cursor, so the shared driver (fuzz_decoder.h) opens the message and
 * checks every outcome it yields. The decoder has the TEST-ONLY keys of
 * tests/fixtures/graph under the certificate ids the fixtures use, so
 * encrypted notifications reach RSA-OAEP, the HMAC check and AES-CBC. Only
 * the seeds written by make_seeds.py carry a valid signature, so the fuzzer
 * reaches the decrypted chatMessage parser through them.
 *
 * Beyond the shared checks, every OK event must have the shape that
 * decode_graph.h documents: source "teams", one of its five kinds, an actor,
 * an event id that starts with "<channel_id>/<content_id>:", the
 * channel_type attribute first, no target equal to the actor and no target
 * twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_graph.h"
#include "fuzz_decoder.h"

static const struct {
	const char *certificate_id;
	const char *file;
} graph_keys[] = {
    {"advocacyd-test-2025", FUZZ_GRAPH_DIR "/test-key.pem"},
    {"advocacyd-other-2025", FUZZ_GRAPH_DIR "/other-key.pem"},
};

static void *graph_create(void)
{
	decode_graph *d = decode_graph_new();
	char errstr[256];

	for (size_t i = 0; d != NULL && i < sizeof(graph_keys) / sizeof(graph_keys[0]); i++) {
		if (decode_graph_add_key(d, graph_keys[i].certificate_id, graph_keys[i].file,
					 errstr, sizeof(errstr)) != 0) {
			fprintf(stderr, "fuzz_decode_graph: %s\n", errstr);
			decode_graph_free(d);
			return NULL;
		}
	}
	return d;
}

static void graph_destroy(void *d)
{
	decode_graph_free(d);
}

static decode_status graph_open(void *d, const uint8_t *buf, size_t len, decode_result *res)
{
	return decode_graph_open(d, buf, len, res);
}

static bool graph_next(void *d, event *ev, decode_result *res)
{
	return decode_graph_next(d, ev, res);
}

static bool graph_str_equal(event_str a, event_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool graph_kind_known(event_str kind)
{
	static const char *const kinds[] = {"message_posted", "reply_posted", "message_edited",
					    "message_deleted", "reaction_added"};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (event_str_eq(kind, kinds[i]))
			return true;
	return false;
}

/* Checks that the event id is "<channel_id>/<content_id>:" and a suffix. */
static void graph_check_event_id(const event *ev)
{
	event_str id = ev->event_id;
	size_t channel = ev->channel_id.len, content = ev->content_id.len;

	if (channel == 0 || content == 0)
		fuzz_fail("decode_graph", "an OK event without channel_id or content_id");
	if (id.len < channel + content + 2 || memcmp(id.ptr, ev->channel_id.ptr, channel) != 0 ||
	    id.ptr[channel] != '/' ||
	    memcmp(id.ptr + channel + 1, ev->content_id.ptr, content) != 0 ||
	    id.ptr[channel + 1 + content] != ':')
		fuzz_fail("decode_graph", "the event id is not <channel_id>/<content_id>:...");
}

/* Checks channel_type (first), team_id (channels only) and the kind's own attribute. */
static void graph_check_attrs(const event *ev)
{
	event_str type = ev->attr_count > 0 ? ev->attrs[0].value : (event_str){NULL, 0};
	bool channel = event_str_eq(type, "channel");

	if (ev->attr_count == 0 || !event_str_eq(ev->attrs[0].key, "channel_type") ||
	    (!channel && !event_str_eq(type, "chat")))
		fuzz_fail("decode_graph",
			  "the first attribute is not channel_type channel or chat");
	if (!channel && event_attr_get(ev, "team_id").len > 0)
		fuzz_fail("decode_graph", "a chat event has a team_id");
	if (event_str_eq(ev->kind, "reaction_added") && event_attr_get(ev, "reaction").len == 0)
		fuzz_fail("decode_graph", "reaction_added without a reaction attribute");
	if (event_str_eq(ev->kind, "reply_posted") && event_attr_get(ev, "reply_to").len == 0)
		fuzz_fail("decode_graph", "reply_posted without a reply_to attribute");
}

static void graph_check_targets(const event *ev)
{
	for (size_t i = 0; i < ev->target_count; i++) {
		if (graph_str_equal(ev->target_ids[i], ev->actor_id))
			fuzz_fail("decode_graph", "target %zu is the actor", i);
		for (size_t j = 0; j < i; j++)
			if (graph_str_equal(ev->target_ids[i], ev->target_ids[j]))
				fuzz_fail("decode_graph", "targets %zu and %zu are the same", j, i);
	}
	if (event_str_eq(ev->kind, "reaction_added") && ev->target_count > 1)
		fuzz_fail("decode_graph", "a reaction has %zu targets, not at most the author",
			  ev->target_count);
}

static void graph_check_ok(void *d, const event *ev)
{
	(void)d;
	if (!event_str_eq(ev->source, "teams"))
		fuzz_fail("decode_graph", "source is not teams");
	if (!graph_kind_known(ev->kind))
		fuzz_fail("decode_graph", "kind %.*s is not one decode_graph.h documents",
			  (int)ev->kind.len, ev->kind.ptr);
	if (ev->actor_id.len == 0)
		fuzz_fail("decode_graph", "an OK event without an actor");
	graph_check_event_id(ev);
	graph_check_attrs(ev);
	graph_check_targets(ev);
}

static const fuzz_decoder graph = {
    .name = "decode_graph",
    .create = graph_create,
    .destroy = graph_destroy,
    .check_ok = graph_check_ok,
    .open = graph_open,
    .next = graph_next,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_decoder_run(&graph, data, size);
}
