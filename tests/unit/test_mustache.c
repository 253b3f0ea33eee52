/* Unit tests of mustache: every case of the official Mustache spec files
 * (from $DIGEST_SHARED/corpus/mustache-spec, skipped when absent), then our
 * own: hostile data is escaped, malformed templates fail with a line
 * number, unknown names render empty, runaway partials stop with an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mustache.h"
#include "testlib.h"

/* Partials from a JSON object of name -> template text. */
static const char *json_partial(void *ctx, const char *name)
{
	return json_string_value(json_object_get(ctx, name));
}

/* Render tmpl with data given as JSON text; returns the output (caller
 * frees) and sets *st. */
static char *render(const char *tmpl, const char *data_json,
                    const char *partials_json, status_t *st, err_t *err)
{
	json_t *data = json_loads(data_json, JSON_DECODE_ANY, NULL);
	json_t *partials =
	    partials_json ? json_loads(partials_json, 0, NULL) : NULL;
	strbuf_t out = {0};
	assert_non_null(data);
	*st = mustache_render(tmpl, data, partials ? json_partial : NULL,
	                      partials, &out, err);
	json_decref(data);
	json_decref(partials);
	return sb_steal(&out);
}

static void check(const char *tmpl, const char *data_json,
                  const char *partials_json, const char *expected)
{
	err_t err = {0};
	status_t st;
	char *got = render(tmpl, data_json, partials_json, &st, &err);
	if (st != ST_OK)
		print_error("%s: %s\n", tmpl, err.msg);
	assert_int_equal(st, ST_OK);
	assert_string_equal(got, expected);
	free(got);
}

/* ---- the official spec ------------------------------------------------- */

static char *spec_dir(void)
{
	return test_shared_path("corpus/mustache-spec");
}

/* Run every case of one spec file; returns the number of failures. */
static int run_spec_file(const char *dir, const char *name)
{
	char *path = xasprintf("%s/specs/%s.json", dir, name);
	json_error_t jerr;
	json_t *spec = json_load_file(path, 0, &jerr), *tests;
	int failed = 0, passed = 0;
	size_t i;

	if (!spec) {
		/* the JSON files may also sit at the top of the folder */
		free(path);
		path = xasprintf("%s/%s.json", dir, name);
		spec = json_load_file(path, 0, &jerr);
	}
	if (!spec) {
		print_error("%s: %s\n", path, jerr.text);
		free(path);
		return 1;
	}
	tests = json_object_get(spec, "tests");
	for (i = 0; i < json_array_size(tests); i++) {
		json_t *t = json_array_get(tests, i);
		const char *tmpl =
		    json_string_value(json_object_get(t, "template"));
		const char *want =
		    json_string_value(json_object_get(t, "expected"));
		json_t *partials = json_object_get(t, "partials");
		strbuf_t out = {0};
		err_t err = {0};
		status_t st;

		st = mustache_render(tmpl, json_object_get(t, "data"),
		                     json_partial, partials, &out, &err);
		if (st == ST_OK && strcmp(sb_str(&out), want) == 0) {
			passed++;
		} else {
			failed++;
			print_error(
			    "FAIL %s: %s\n  template: %s\n  expected: "
			    "[%s]\n  got:      [%s] %s\n",
			    name, json_string_value(json_object_get(t, "name")),
			    tmpl, want, sb_str(&out),
			    st == ST_OK ? "" : err.msg);
		}
		sb_free(&out);
	}
	print_message("mustache spec %-14s %d/%d passed\n", name, passed,
	              passed + failed);
	if (passed + failed == 0)
		failed = 1;
	json_decref(spec);
	free(path);
	return failed;
}

static void test_spec(void **state)
{
	static const char *const files[] = {"interpolation", "sections",
	                                    "inverted",      "comments",
	                                    "partials",      "delimiters"};
	char *dir = spec_dir();
	int failed = 0;

	(void)state;
	if (!dir)
		skip();
	for (size_t i = 0; i < sizeof files / sizeof *files; i++)
		failed += run_spec_file(dir, files[i]);
	free(dir);
	assert_int_equal(failed, 0);
}

/* ---- our own ----------------------------------------------------------- */

static void test_hostile_data_escaped(void **state)
{
	(void)state;
	check("<p>{{x}}</p>", "{\"x\": \"<script>alert('x')</script>\"}", NULL,
	      "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>");
	check("<a title=\"{{x}}\">", "{\"x\": \"\\\" onmouseover=\\\"evil\"}",
	      NULL, "<a title=\"&quot; onmouseover=&quot;evil\">");
	check("{{x}}", "{\"x\": \"a & b's <c>\"}", NULL,
	      "a &amp; b&#39;s &lt;c&gt;");
	/* CR/LF pass through as they are: escaping is for markup */
	check("[{{x}}]", "{\"x\": \"l1\\r\\nl2\\n\"}", NULL, "[l1\r\nl2\n]");
	/* names from data are never re-parsed as tags */
	check("{{x}}", "{\"x\": \"{{y}}\", \"y\": \"no\"}", NULL, "{{y}}");
	/* the same through a section, a dotted name and the implicit iterator
	 */
	check("{{#l}}{{.}}{{/l}}{{p.n}}",
	      "{\"l\": [\"<b>\"], \"p\": {\"n\": \"&\"}}", NULL,
	      "&lt;b&gt;&amp;");
	/* triple mustache and & are the explicit way out */
	check("{{{x}}}{{&x}}", "{\"x\": \"<i>\"}", NULL, "<i><i>");
}

static void test_long_string_escaped(void **state)
{
	json_t *data = json_object();
	strbuf_t big = {0}, out = {0};
	err_t err = {0};

	(void)state;
	for (int i = 0; i < 5000; i++)
		sb_puts(&big, i % 2 ? "<'" : "a\"");
	json_object_set_new(data, "x", json_string(sb_str(&big)));
	assert_int_equal(mustache_render("{{x}}", data, NULL, NULL, &out, &err),
	                 ST_OK);
	/* 2500 each of a, ", <, ' */
	assert_int_equal(out.len, 2500 * (1 + 6 + 4 + 5));
	assert_null(strchr(out.s, '<'));
	assert_null(strchr(out.s, '"'));
	assert_null(strchr(out.s, '\''));
	sb_free(&out);
	sb_free(&big);
	json_decref(data);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *tmpl, *msg;
	} cases[] = {
	    {"a\n{{#x}}\nb", "line 2: unclosed section \"x\""},
	    {"{{#a}}\n{{#b}}{{/a}}",
	     "line 2: close tag \"a\" does not match section \"b\" of line 2"},
	    {"\n\n{{/x}}", "line 3: close tag \"x\" without an open section"},
	    {"x\n\n{{name", "line 3: unclosed tag"},
	    {"{{{name}}", "line 1: unclosed tag"},
	    {"{{! comment", "line 1: unclosed tag"},
	    {"{{=<% %>}}", "line 1: unclosed tag"},
	    {"\n{{= a b c =}}", "line 2: bad delimiter change"},
	    {"{{=a=}}", "line 1: bad delimiter change"},
	    {"{{=<%= %>=}}", "line 1: bad delimiter change"},
	    {"ok\n{{ }}", "line 2: empty tag"},
	    {"{{=<% %>=}}\n<%#a%>\n{{/a}}", "line 2: unclosed section \"a\""},
	    {"{{#a}}{{>p}}{{/a}}", NULL}, /* fine: sanity check of the loop */
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		strbuf_t out = {0};
		err_t err = {0};
		status_t st;
		json_t *data = json_object();
		sb_puts(&out, "kept");
		st = mustache_render(cases[i].tmpl, data, NULL, NULL, &out,
		                     &err);
		json_decref(data);
		if (!cases[i].msg) {
			assert_int_equal(st, ST_OK);
		} else {
			assert_int_equal(st, ST_DATAERR);
			assert_int_equal(err.status, ST_DATAERR);
			assert_string_equal(err.msg, cases[i].msg);
			assert_string_equal(sb_str(&out), "kept");
		}
		sb_free(&out);
	}
}

static void test_unknown_names_empty(void **state)
{
	(void)state;
	check("[{{nope}}][{{{nope}}}][{{&nope}}][{{a.nope}}][{{nope.a}}]",
	      "{\"a\": {}}", NULL, "[][][][][]");
	check("[{{#nope}}x{{/nope}}][{{^nope}}y{{/nope}}][{{>nope}}]", "{}",
	      "{}", "[][y][]");
	/* no partial callback at all */
	check("[{{>p}}]", "{}", NULL, "[]");
	/* lists and objects do not print */
	check("[{{l}}][{{o}}]", "{\"l\": [1], \"o\": {\"a\": 1}}", NULL,
	      "[][]");
}

static void test_values(void **state)
{
	(void)state;
	check("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}}",
	      "{\"a\": 0, \"b\": -12, \"c\": 0.1, \"d\": 1e100, \"e\": 2.0, "
	      "\"f\": true, \"g\": 9223372036854775807}",
	      NULL, "0 -12 0.1 1e+100 2 true 9223372036854775807");
	/* falsey: false, null, [], ""; truthy: 0, {}, "0" */
	check("{{#a}}A{{/a}}{{#b}}B{{/b}}{{#c}}C{{/c}}{{#d}}D{{/d}}",
	      "{\"a\": false, \"b\": null, \"c\": [], \"d\": \"\"}", NULL, "");
	check("{{^a}}A{{/a}}{{^b}}B{{/b}}{{^c}}C{{/c}}{{^d}}D{{/d}}",
	      "{\"a\": false, \"b\": null, \"c\": [], \"d\": \"\"}", NULL,
	      "ABCD");
	check("{{#a}}A{{/a}}{{#b}}B{{/b}}{{#c}}C{{/c}}",
	      "{\"a\": 0, \"b\": {}, \"c\": \"0\"}", NULL, "ABC");
	/* a person's note shown only when there is one */
	check("{{#people}}{{name}}{{#note}} ({{note}}){{/note}};{{/people}}",
	      "{\"people\": [{\"name\": \"A\", \"note\": \"x\"}, "
	      "{\"name\": \"B\", \"note\": \"\"}, {\"name\": \"C\"}]}",
	      NULL, "A (x);B;C;");
}

static void test_appends(void **state)
{
	json_t *data = json_pack("{s:s}", "x", "y");
	strbuf_t out = {0};
	err_t err = {0};

	(void)state;
	sb_puts(&out, "pre:");
	assert_int_equal(mustache_render("{{x}}", data, NULL, NULL, &out, &err),
	                 ST_OK);
	assert_string_equal(sb_str(&out), "pre:y");
	sb_free(&out);
	/* an empty result into an empty buffer is fine */
	assert_int_equal(mustache_render("", data, NULL, NULL, &out, &err),
	                 ST_OK);
	assert_string_equal(sb_str(&out), "");
	sb_free(&out);
	json_decref(data);
}

static void test_partial_recursion_stops(void **state)
{
	json_t *partials =
	    json_pack("{s:s, s:s}", "p", "x{{>p}}", "q", "\n  {{>q}}\n");
	json_t *data = json_object();
	strbuf_t out = {0};
	err_t err = {0};
	status_t st;

	(void)state;
	sb_puts(&out, "kept");
	st = mustache_render("a\n{{>p}}", data, json_partial, partials, &out,
	                     &err);
	assert_int_equal(st, ST_DATAERR);
	assert_non_null(strstr(err.msg, "partial \"p\" nested more than 100"));
	/* nothing of what was rendered before the error is left */
	assert_string_equal(sb_str(&out), "kept");

	/* a standalone, indented one grows each level: still stops */
	st =
	    mustache_render("{{>q}}", data, json_partial, partials, &out, &err);
	assert_int_equal(st, ST_DATAERR);
	assert_string_equal(sb_str(&out), "kept");

	/* recursion that ends on its own is fine (the innermost "c" must be
	 * there: a missing one would be found again one level up) */
	json_object_set_new(partials, "n",
	                    json_string("{{v}}{{#c}}({{>n}}){{/c}}"));
	json_decref(data);
	data = json_loads(
	    "{\"v\": 1, \"c\": {\"v\": 2, \"c\": {\"v\": 3, \"c\": null}}}", 0,
	    NULL);
	st =
	    mustache_render("{{>n}}", data, json_partial, partials, &out, &err);
	assert_int_equal(st, ST_OK);
	assert_string_equal(sb_str(&out), "kept1(2(3))");
	sb_free(&out);
	json_decref(data);
	json_decref(partials);
}

static void test_malformed_partial(void **state)
{
	json_t *partials = json_pack("{s:s}", "bad", "ok\n{{#x}}");
	json_t *data = json_object();
	strbuf_t out = {0};
	err_t err = {0};

	(void)state;
	assert_int_equal(mustache_render("one\n{{>bad}}", data, json_partial,
	                                 partials, &out, &err),
	                 ST_DATAERR);
	assert_string_equal(err.msg,
	                    "line 2: partial \"bad\": line 2: unclosed section "
	                    "\"x\"");
	assert_string_equal(sb_str(&out), "");
	sb_free(&out);
	json_decref(data);
	json_decref(partials);
}

static void test_data_untouched(void **state)
{
	json_t *data = json_loads(
	    "{\"a\": [1, {\"b\": \"<\"}], \"c\": {\"d\": null}}", 0, NULL);
	char *before = json_dumps(data, JSON_SORT_KEYS), *after;
	strbuf_t out = {0};
	err_t err = {0};

	(void)state;
	assert_int_equal(mustache_render("{{#a}}{{.}}{{b}}{{/a}}{{c.d}}", data,
	                                 NULL, NULL, &out, &err),
	                 ST_OK);
	assert_string_equal(sb_str(&out), "1&lt;");
	after = json_dumps(data, JSON_SORT_KEYS);
	assert_string_equal(before, after);
	free(before);
	free(after);
	sb_free(&out);
	json_decref(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec),
	    cmocka_unit_test(test_hostile_data_escaped),
	    cmocka_unit_test(test_long_string_escaped),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_unknown_names_empty),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_appends),
	    cmocka_unit_test(test_partial_recursion_stops),
	    cmocka_unit_test(test_malformed_partial),
	    cmocka_unit_test(test_data_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
