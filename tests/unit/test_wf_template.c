/* Unit tests for wf_template: placeholder scanning, rendering, lookup. */
#include "unit.h"

#include "wf_template.h"

static const char *CTX_JSON =
	"{\"$context\":{\"data\":{\"price\":19.99,\"qty\":3,"
	"\"name\":\"Widget\",\"tags\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
	"\"nums\":[1,2,3,4],\"nil\":null,\"flag\":true,\"obj\":{\"k\":\"v\"},"
	"\"groups\":[{\"items\":[{\"id\":1},{\"id\":2}]},"
	"{\"items\":[{\"id\":3}]},{\"other\":1}],"
	"\"matrix\":[[1,2],[3]],\"mixed\":[{\"name\":\"x\"},5,null],"
	"\"dotted\":{\"a.b\":7},\"empty\":[],\"uni\":\"h\\u00e9llo\"}},"
	"\"a.b\":\"whole-key\",\"$system\":{\"now\":\"2024-01-02T03:04:05.000Z\"}}";

static json_object *ctx_root;

static json_object *resolve(void *ctx, const char *path)
{
	return wf_template_lookup(ctx, path);
}

static int setup(void **state)
{
	char err[128];
	(void)state;
	return jsonx_parse(CTX_JSON, strlen(CTX_JSON), 64, &ctx_root, err,
			   sizeof(err));
}

static int teardown(void **state)
{
	(void)state;
	json_object_put(ctx_root);
	return 0;
}

/* ---- lookup ------------------------------------------------------------ */

static void test_lookup(void **state)
{
	static const struct {
		const char *path, *want; /* want NULL: undefined */
	} cases[] = {
		{"$context.data.qty", "3"},
		{"$context.data.price", "19.99"},
		{"$context.data.name", "\"Widget\""},
		{"$context.data.obj", "{\"k\":\"v\"}"},
		{"$context.data.obj.k", "\"v\""},
		{"$context.data.tags.0.name", "\"a\""},
		{"$context.data.tags[1].name", "\"b\""},
		{"$context.data.tags[\"1\"].name", "\"b\""},
		{"$context.data.obj['k']", "\"v\""},
		{"$context.data.tags.name", "[\"a\",\"b\"]"},
		{"$context.data.tags.missing", "[null,null]"},
		{"$context.data.groups.items", "[{\"id\":1},{\"id\":2},{\"id\":3},"
					       "null]"},
		{"$context.data.groups.items.id", "[1,2,3,null]"},
		{"$context.data.mixed.name", "[\"x\",null,null]"},
		{"$context.data.matrix.0", "[1,2]"},
		{"$context.data.matrix.1.0", "3"},
		{"$context.data.nums.length", "4"},
		{"$context.data.empty.length", "0"},
		{"$context.data.empty.name", "[]"},
		{"$context.data.name.length", "6"},
		{"$context.data.uni.length", "5"},
		{"$context.data.nums.3", "4"},
		{"$context.data.nums.4", NULL},
		{"$context.data.nums.-1", "[null,null,null,null]"},
		{"$context.data.nil", NULL},
		{"$context.data.nil.x", NULL},
		{"$context.data.missing", NULL},
		{"$context.data.qty.x", NULL},
		{"$context.nope.deeper", NULL},
		{"a.b", "\"whole-key\""},
		{"$context.data.dotted.a.b", NULL},
		{"$context.data.dotted[\"a.b\"]", "7"},
		{"", NULL},
		{"$context.data.tags[1", NULL},
	};
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		json_object *v = wf_template_lookup(ctx_root, cases[i].path);
		const char *got = v ? jsonx_str(v) : NULL;
		if (cases[i].want ? !got || strcmp(got, cases[i].want)
				  : got != NULL) {
			print_error("%s: want %s, got %s\n", cases[i].path,
				    cases[i].want ? cases[i].want : "undefined",
				    got ? got : "undefined");
			failed++;
		}
		json_object_put(v);
	}
	assert_null(wf_template_lookup(NULL, "a"));
	assert_null(wf_template_lookup(ctx_root, NULL));
	assert_int_equal(failed, 0);
}

/* ---- scanner ------------------------------------------------------------ */

static void test_scan(void **state)
{
	struct wf_placeholder ph;
	const char *s;

	(void)state;
	s = "a {{ x.y }} b";
	assert_true(wf_template_scan(s, strlen(s), 0, WF_PH_TEMPLATE, &ph));
	assert_int_equal(ph.start, 2);
	assert_int_equal(ph.end, 11);
	assert_int_equal(ph.keylen, 3);
	assert_memory_equal(s + ph.key, "x.y", 3);
	assert_false(ph.has_default);
	assert_false(wf_template_scan(s, strlen(s), 3, WF_PH_TEMPLATE, &ph));

	s = "{{ key : some default }}";
	assert_true(wf_template_scan(s, strlen(s), 0, WF_PH_TEMPLATE, &ph));
	assert_true(ph.has_default);
	assert_int_equal(ph.keylen, 3);
	assert_int_equal(ph.dfltlen, 12);
	assert_memory_equal(s + ph.dflt, "some default", 12);

	/* Characters outside the grammar: no placeholder. */
	s = "{{ a!b }} {{}} {{ a{b }} {x} {{a}";
	assert_false(wf_template_scan(s, strlen(s), 0, WF_PH_TEMPLATE, &ph));
	/* The widest charset: word, space and : - + . , @ / ( ) ? = * _ $ */
	s = "{{$a-b+c.d,e@f/g(h)i?j=k*l_m:n}}";
	assert_true(wf_template_scan(s, strlen(s), 0, WF_PH_TEMPLATE, &ph));
	assert_int_equal(ph.end, strlen(s));
	/* Retries after a failed "{{": "{{{a}}}" holds {{a}} at 1. */
	s = "{{{a}}}";
	assert_true(wf_template_scan(s, strlen(s), 0, WF_PH_TEMPLATE, &ph));
	assert_int_equal(ph.start, 1);
	assert_int_equal(ph.end, 6);

	/* The expression grammar is narrower: no defaults, no spaces
	 * inside the path. */
	s = "{{ $ctx.a-b_1 }}";
	assert_true(wf_template_scan(s, strlen(s), 0, WF_PH_EXPR, &ph));
	assert_int_equal(ph.keylen, 10);
	s = "{{ a:b }} {{ a b }} {{ }}";
	assert_false(wf_template_scan(s, strlen(s), 0, WF_PH_EXPR, &ph));
	/* Length is honoured: no reading past len. */
	s = "{{a}}";
	assert_false(wf_template_scan(s, 4, 0, WF_PH_TEMPLATE, &ph));
	assert_false(wf_template_scan(s, 1, 0, WF_PH_TEMPLATE, &ph));
	assert_false(wf_template_scan("", 0, 0, WF_PH_TEMPLATE, &ph));
}

/* ---- rendering ------------------------------------------------------------ */

static void test_render(void **state)
{
	static const struct {
		const char *tmpl, *want;
	} cases[] = {
		/* whole-string placeholders keep the type */
		{"\"{{$context.data.qty}}\"", "3"},
		{"\"{{ $context.data.price }}\"", "19.99"},
		{"\"{{$context.data.flag}}\"", "true"},
		{"\"{{$context.data.obj}}\"", "{\"k\":\"v\"}"},
		{"\"{{$context.data.nums}}\"", "[1,2,3,4]"},
		{"\"{{$context.data.nil}}\"", "null"},
		{"\"{{$context.data.missing}}\"", "null"},
		{"\"{{$context.data.tags.name}}\"", "[\"a\",\"b\"]"},
		{"\"{{$system.now}}\"", "\"2024-01-02T03:04:05.000Z\""},
		/* embedded placeholders are stringified */
		{"\"Qty: {{$context.data.qty}}\"", "\"Qty: 3\""},
		{"\" {{$context.data.qty}}\"", "\" 3\""},
		{"\"{{$context.data.price}} EUR\"", "\"19.99 EUR\""},
		{"\"{{$context.data.nil}}-{{$context.data.missing}}\"", "\"-\""},
		{"\"{{$context.data.nums}}!\"", "\"1,2,3,4!\""},
		{"\"{{$context.data.obj}}!\"", "\"[object Object]!\""},
		{"\"{{$context.data.flag}} it\"", "\"true it\""},
		{"\"{{$context.data.tags.name}};\"", "\"a,b;\""},
		{"\"{{$context.data.qty}}{{$context.data.qty}}\"", "\"33\""},
		{"\"{{$context.data.name}}/{{$context.data.qty}}\"",
		 "\"Widget/3\""},
		/* defaults */
		{"\"{{$context.data.missing:fallback}}\"", "\"fallback\""},
		{"\"{{ $context.data.missing : 7 }}\"", "\"7\""},
		{"\"n={{$context.data.missing:7}}\"", "\"n=7\""},
		{"\"{{$context.data.qty:9}}\"", "3"},
		{"\"{{$context.data.nil:d}}\"", "\"d\""},
		/* not placeholders */
		{"\"{{ not valid! }}\"", "\"{{ not valid! }}\""},
		{"\"{x} {{}}\"", "\"{x} {{}}\""},
		{"\"{{{$context.data.qty}}}\"", "\"{3}\""},
		{"\"plain\"", "\"plain\""},
		{"\"\"", "\"\""},
		/* structures */
		{"{\"a\":[\"{{$context.data.qty}}\",{\"b\":\"x{{$context.data.name}}"
		 "\"}],\"n\":5,\"t\":true,\"z\":null,\"f\":1.5}",
		 "{\"a\":[3,{\"b\":\"xWidget\"}],\"n\":5,\"t\":true,\"z\":null,"
		 "\"f\":1.5}"},
		{"{\"{{$context.data.name}}\":1,\"k-{{$context.data.qty}}\":2}",
		 "{\"Widget\":1,\"k-3\":2}"},
		{"{\"{{$context.data.nil}}\":1}", "{\"\":1}"},
		{"[\"{{$context.data.nums}}\",\"{{$context.data.nums}}.\"]",
		 "[[1,2,3,4],\"1,2,3,4.\"]"},
		{"[[[\"{{$context.data.flag}}\"]]]", "[[[true]]]"},
		{"{\"filter\":{\"id\":{\"$eq\":\"{{$context.data.qty}}\"}}}",
		 "{\"filter\":{\"id\":{\"$eq\":3}}}"},
		{"42", "42"},
		{"null", "null"},
	};
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		json_object *t = unit_json(cases[i].tmpl);
		json_object *out = wf_template_render(t, resolve, ctx_root);
		const char *got = jsonx_str(out);
		if (strcmp(got, cases[i].want) != 0) {
			print_error("%s: want %s, got %s\n", cases[i].tmpl,
				    cases[i].want, got);
			failed++;
		}
		json_object_put(out);
		json_object_put(t);
	}
	assert_int_equal(failed, 0);
}

/* The template is not modified and the result is a separate tree. */
static void test_render_copy(void **state)
{
	json_object *t =
		unit_json("{\"a\":[\"{{$context.data.qty}}\"],\"b\":2}");
	json_object *out;

	(void)state;
	out = wf_template_render(t, resolve, ctx_root);
	assert_string_equal(jsonx_str(t),
			    "{\"a\":[\"{{$context.data.qty}}\"],\"b\":2}");
	json_object_object_add(out, "c", json_object_new_int(1));
	assert_false(json_object_object_get_ex(t, "c", NULL));
	json_object_put(out);
	json_object_put(t);
}

static void test_render_str(void **state)
{
	static const struct {
		const char *tmpl, *want;
	} cases[] = {
		{"Hi {{$context.data.name}}", "Hi Widget"},
		{"{{$context.data.nums}}", "1,2,3,4"},
		{"{{$context.data.qty}}", "3"},
		{"{{$context.data.nil}}", ""},
		{"{{$context.data.missing:dflt}}", "dflt"},
		{"{{$context.data.obj}}", "[object Object]"},
		{"{{$context.data.price}}", "19.99"},
		{"", ""},
		{"no placeholders", "no placeholders"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *s = wf_template_render_str(cases[i].tmpl, resolve,
						 ctx_root);
		assert_non_null(s);
		assert_string_equal(s, cases[i].want);
		free(s);
	}
	char *s = wf_template_render_str(NULL, resolve, ctx_root);
	assert_string_equal(s, "");
	free(s);
	/* No resolver: everything undefined. */
	s = wf_template_render_str("a{{x}}b{{y:z}}", NULL, NULL);
	assert_string_equal(s, "abz");
	free(s);
}

/* ---- limits ------------------------------------------------------------- */

static json_object *big_resolve(void *ctx, const char *path)
{
	(void)path;
	return json_object_get(ctx);
}

static void test_limits(void **state)
{
	size_t n = 5u << 20;
	char *big = malloc(n + 1), err[128] = "";
	json_object *v, *t, *out = (json_object *)1;

	(void)state;
	memset(big, 'x', n);
	big[n] = 0;
	v = json_object_new_string(big);
	free(big);

	/* One copy embedded: fine.  Two: over the output limit. */
	char *s = wf_template_render_str("<{{x}}>", big_resolve, v);
	assert_non_null(s);
	assert_int_equal(strlen(s), n + 2);
	free(s);
	assert_null(wf_template_render_str("{{x}}{{x}}", big_resolve, v));
	/* The limit counts the whole render, across values. */
	t = unit_json("[\"<{{x}}>\", \"<{{x}}>\"]");
	assert_int_equal(wf_template_render_ex(t, big_resolve, v, &out, err,
					       sizeof(err)),
			 -1);
	assert_null(out);
	assert_non_null(strstr(err, "exceeds"));
	assert_null(wf_template_render(t, big_resolve, v));
	json_object_put(t);
	/* Whole-string placeholders are references, not text: no limit. */
	t = unit_json("[\"{{x}}\", \"{{x}}\", \"{{x}}\"]");
	assert_int_equal(wf_template_render_ex(t, big_resolve, v, &out, err,
					       sizeof(err)),
			 0);
	assert_int_equal(json_object_array_length(out), 3);
	json_object_put(out);
	json_object_put(t);
	json_object_put(v);

	/* Very deep templates: no crash; levels past the limit are kept
	 * as they are. */
	json_object *root = json_object_new_array(), *cur = root;
	for (int i = 0; i < 5000; i++) {
		json_object *next = json_object_new_array();
		json_object_array_add(cur, next);
		cur = next;
	}
	json_object_array_add(cur, json_object_new_string("{{x}}"));
	assert_int_equal(wf_template_render_ex(root, resolve, ctx_root, &out,
					       err, sizeof(err)),
			 0);
	assert_non_null(out);
	json_object_put(out);
	json_object_put(root);

	/* A key longer than the path limit resolves to undefined. */
	size_t kl = WF_TEMPLATE_MAX_PATH + 10;
	char *tmpl = malloc(kl + 16);
	strcpy(tmpl, "{{");
	memset(tmpl + 2, 'a', kl);
	strcpy(tmpl + 2 + kl, ":d}}");
	s = wf_template_render_str(tmpl, resolve, ctx_root);
	assert_string_equal(s, "d");
	free(s);
	free(tmpl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_copy),
		cmocka_unit_test(test_render_str),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
