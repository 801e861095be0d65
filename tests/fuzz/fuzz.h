/*
 * fuzz.h: what the libFuzzer harnesses of tests/fuzz/ share (each
 * tests/fuzz/fuzz_<target>.c is one target; see README "Fuzzing").
 *
 * Harnesses are deterministic and leak-free: everything an input creates
 * is freed before LLVMFuzzerTestOneInput returns, and what the process
 * keeps (a scratch database, a schema) is made once and freed at exit.
 * A property a harness checks beyond "no crash" fails with FUZZ_CHECK,
 * which aborts, so libFuzzer saves the input as a crash.
 */
#ifndef FLOWCGI_FUZZ_H
#define FLOWCGI_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jsonx.h"
#include "util.h"
#include "wf_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fuzz check failed: %s: ", #cond);     \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

/* The input as a C string, cut at its first NUL (as a CGI parameter, a
 * node config string or a header value would be).  Free it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	size_t n = strnlen((const char *)data, size);
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, data, n);
	s[n] = 0;
	return s;
}

/* The input as the text of a JSON string member (a node's expression or
 * template): cut at a NUL, and NULL unless it is valid UTF-8, as every
 * string that reaches a node config passed jsonx_parse's check. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	if (!util_utf8_valid(s, strlen(s))) {
		free(s);
		return NULL;
	}
	return s;
}

/* Parse JSON text the harness itself wrote (aborts when it is wrong). */
static inline json_object *fuzz_json(const char *text)
{
	json_object *o = NULL;
	char err[256];
	if (jsonx_parse(text, strlen(text), JSONX_MAX_DEPTH, &o, err,
			sizeof(err))) {
		fprintf(stderr, "fuzz: bad built-in JSON: %s\n%s\n", err, text);
		abort();
	}
	return o;
}

/* What the workflow engine resolves {{...}} against, as wf_resolve does
 * for everything but $system and $env: a lookup in the execution's scope. */
static inline json_object *fuzz_resolve(void *ctx, const char *path)
{
	if (!strncmp(path, "ctx.", 4))
		path += 4;
	return wf_template_lookup(ctx, path);
}

/* A scope with the shapes workflows see: $context.data (a row with
 * associations), $jobsMapByNodeKey, $scopes, odd keys. */
static const char FUZZ_SCOPE_JSON[] =
	"{\"$context\":{\"data\":{\"id\":7,\"title\":\"Hello\",\"price\":19.99,"
	"\"qty\":3,\"total\":-0.5,\"big\":9007199254740993,\"nil\":null,"
	"\"flag\":true,\"off\":false,\"empty\":\"\",\"zero\":0,"
	"\"date\":\"2024-01-02T03:04:05.000Z\",\"num\":\"42\",\"sp\":\" 1 \","
	"\"tags\":[{\"name\":\"a\",\"n\":1},{\"name\":\"b\",\"n\":2}],"
	"\"nums\":[1,2,3,4.5,-1],\"strs\":[\"x\",\"y\"],\"nested\":[[1,2],[3]],"
	"\"category\":{\"id\":1,\"name\":\"News\",\"parent\":{\"id\":2}},"
	"\"obj\":{\"k\":\"v\",\"a.b\":1,\"0\":\"zero\"},\"uni\":\"h\\u00e9llo \\ud83d\\ude00\"},"
	"\"user\":{\"id\":1,\"nickname\":\"Super Admin\"},\"roleName\":\"root\"},"
	"\"$jobsMapByNodeKey\":{\"n1\":{\"status\":200,\"data\":{\"items\":[1,2]}},"
	"\"calc\":12.5,\"q\":[{\"id\":1},{\"id\":2}]},"
	"\"$scopes\":{\"loop\":{\"item\":{\"id\":3},\"index\":0,\"length\":2}},"
	"\"a.b\":\"whole\",\"$system\":{\"now\":\"2024-01-02T03:04:05.000Z\"},"
	"\"$env\":{\"HOST\":\"example.com\"}}";

#endif
