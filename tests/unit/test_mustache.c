/* Unit tests of mustache: every case of the official Mustache spec files
 * (from $DIGEST_SHARED/corpus/mustache-spec, skipped when absent), then our
 * own: hostile data is escaped, malformed templates fail with a line
 * number, unknown names render empty, runaway partials stop with an error,
 * and no template costs more than the limits of mustache.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mustache.h"
#include "testlib.h"

/* Partials from a JSON object of name -> template text. */
static const char *json_partial(void *ctx, const char *name, const char **label)
{
	(void)label;
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
	*st = mustache_render(NULL, tmpl, data, partials ? json_partial : NULL,
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

		st = mustache_render(NULL, tmpl, json_object_get(t, "data"),
				     json_partial, partials, &out, &err);
		if (st == ST_OK && strcmp(sb_str(&out), want) == 0) {
			passed++;
		} else {
			failed++;
			print_error(
				"FAIL %s: %s\n  template: %s\n  expected: "
				"[%s]\n  got:      [%s] %s\n",
				name,
				json_string_value(json_object_get(t, "name")),
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
	assert_int_equal(
		mustache_render(NULL, "{{x}}", data, NULL, NULL, &out, &err),
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
		{"{{#a}}\n{{#b}}{{/a}}", "line 2: close tag \"a\" does not "
					 "match section \"b\" of line 2"},
		{"\n\n{{/x}}",
		 "line 3: close tag \"x\" without an open section"},
		{"x\n\n{{name", "line 3: unclosed tag"},
		{"{{{name}}", "line 1: unclosed tag"},
		{"{{! comment", "line 1: unclosed tag"},
		{"{{=<% %>}}", "line 1: unclosed tag"},
		{"\n{{= a b c =}}", "line 2: bad delimiter change"},
		{"{{=a=}}", "line 1: bad delimiter change"},
		{"{{=<%= %>=}}", "line 1: bad delimiter change"},
		{"ok\n{{ }}", "line 2: empty tag"},
		{"{{=<% %>=}}\n<%#a%>\n{{/a}}",
		 "line 2: unclosed section \"a\""},
		{"{{#a}}{{>p}}{{/a}}",
		 NULL}, /* fine: sanity check of the loop */
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		strbuf_t out = {0};
		err_t err = {0};
		status_t st;
		json_t *data = json_object();
		sb_puts(&out, "kept");
		st = mustache_render(NULL, cases[i].tmpl, data, NULL, NULL,
				     &out, &err);
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
	assert_int_equal(
		mustache_render(NULL, "{{x}}", data, NULL, NULL, &out, &err),
		ST_OK);
	assert_string_equal(sb_str(&out), "pre:y");
	sb_free(&out);
	/* an empty result into an empty buffer is fine */
	assert_int_equal(
		mustache_render(NULL, "", data, NULL, NULL, &out, &err), ST_OK);
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
	st = mustache_render(NULL, "a\n{{>p}}", data, json_partial, partials,
			     &out, &err);
	assert_int_equal(st, ST_DATAERR);
	assert_non_null(strstr(err.msg, "partial \"p\" nested more than 100"));
	/* nothing of what was rendered before the error is left */
	assert_string_equal(sb_str(&out), "kept");

	/* a standalone, indented one grows each level: still stops */
	st = mustache_render(NULL, "{{>q}}", data, json_partial, partials, &out,
			     &err);
	assert_int_equal(st, ST_DATAERR);
	assert_string_equal(sb_str(&out), "kept");

	/* recursion that ends on its own is fine (the innermost "c" must be
	 * there: a missing one would be found again one level up) */
	json_object_set_new(partials, "n",
			    json_string("{{v}}{{#c}}({{>n}}){{/c}}"));
	json_decref(data);
	data = json_loads(
		"{\"v\": 1, \"c\": {\"v\": 2, \"c\": {\"v\": 3, \"c\": null}}}",
		0, NULL);
	st = mustache_render(NULL, "{{>n}}", data, json_partial, partials, &out,
			     &err);
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
	assert_int_equal(mustache_render(NULL, "one\n{{>bad}}", data,
					 json_partial, partials, &out, &err),
			 ST_DATAERR);
	assert_string_equal(err.msg, "bad:2: unclosed section \"x\" (included "
				     "from line 2)");
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
	assert_int_equal(mustache_render(NULL, "{{#a}}{{.}}{{b}}{{/a}}{{c.d}}",
					 data, NULL, NULL, &out, &err),
			 ST_OK);
	assert_string_equal(sb_str(&out), "1&lt;");
	after = json_dumps(data, JSON_SORT_KEYS);
	assert_string_equal(before, after);
	free(before);
	free(after);
	sb_free(&out);
	json_decref(data);
}

/* Partials from a JSON object, labelled "/t/NAME" in messages, counted. */
static int asked;

static const char *file_partial(void *ctx, const char *name, const char **label)
{
	static char path[64];
	asked++;
	snprintf(path, sizeof path, "/t/%s", name);
	*label = path;
	return json_string_value(json_object_get(ctx, name));
}

static void test_named_errors(void **state)
{
	json_t *partials = json_pack("{s:s}", "p.html", "ok\n{{/y}}");
	json_t *data = json_pack("{s:b}", "s", 1);
	strbuf_t out = {0};
	err_t err = {0};

	(void)state;
	assert_int_equal(mustache_render("t.txt", "a\n{{#x}}", data, NULL, NULL,
					 &out, &err),
			 ST_DATAERR);
	assert_string_equal(err.msg, "t.txt:2: unclosed section \"x\"");
	assert_int_equal(mustache_render("t.txt", "a\n{{#s}}{{> p.html}}{{/s}}",
					 data, file_partial, partials, &out,
					 &err),
			 ST_DATAERR);
	assert_string_equal(err.msg, "/t/p.html:2: close tag \"y\" without an "
				     "open section (included from t.txt:2)");
	assert_string_equal(sb_str(&out), "");
	sb_free(&out);
	json_decref(data);
	json_decref(partials);
}

/* Partials p0 .. p<levels - 1> each including the next one twice, and
 * p<levels> = last: 2^levels expansions. */
static json_t *doubling(int levels, const char *last)
{
	json_t *partials = json_object();
	for (int i = 0; i < levels; i++) {
		char name[16],
			*text = xasprintf("{{>p%d}}{{>p%d}}", i + 1, i + 1);
		snprintf(name, sizeof name, "p%d", i);
		json_object_set_new(partials, name, json_string(text));
		free(text);
	}
	char name[16];
	snprintf(name, sizeof name, "p%d", levels);
	json_object_set_new(partials, name, json_string(last));
	return partials;
}

static void expect_bounded(const char *tmpl, json_t *data, json_t *partials,
			   const char *msg)
{
	strbuf_t out = {0};
	err_t err = {0};
	clock_t start = clock();
	status_t st;

	sb_puts(&out, "kept");
	st = mustache_render("t", tmpl, data, json_partial, partials, &out,
			     &err);
	double cpu = (double)(clock() - start) / CLOCKS_PER_SEC;
	assert_int_equal(st, ST_DATAERR);
	if (!strstr(err.msg, msg))
		fail_msg("\"%s\" does not say \"%s\"", err.msg, msg);
	assert_string_equal(sb_str(&out), "kept");
	/* well under a second, even under a sanitizer */
	if (cpu >= 1.0)
		fail_msg("%.2f s of CPU before \"%s\"", cpu, err.msg);
	sb_free(&out);
}

static void test_expansion_bounded(void **state)
{
	json_t *data = json_object();
	json_t *partials;
	strbuf_t big = {0};

	(void)state;
	/* 2^30 bytes to write; then 2^30 partials that write nothing */
	partials = doubling(30, "x");
	expect_bounded("{{>p0}}", data, partials,
		       "steps to render: do partials include each other");
	json_decref(partials);
	partials = doubling(30, "");
	expect_bounded("{{>p0}}", data, partials,
		       "steps to render: do partials include each other");
	json_decref(partials);
	/* a few steps, but 64 MiB to write */
	for (int i = 0; i < 1 << 20; i++)
		sb_putc(&big, 'w');
	json_object_set_new(data, "w", json_string(sb_str(&big)));
	partials = doubling(5, "{{w}}{{w}}");
	expect_bounded("{{>p0}}", data, partials,
		       "p5:1: renders to more than 16 MiB");
	json_decref(partials);
	/* a list walked inside a walk of itself, six deep */
	json_t *l = json_array();
	for (int i = 0; i < 100; i++)
		json_array_append_new(l, json_integer(i));
	json_object_set_new(data, "l", l);
	expect_bounded("{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}.{{/l}}{{/l}}{{/l}}"
		       "{{/l}}{{/l}}{{/l}}",
		       data, NULL, "steps to render");
	json_decref(data);
	sb_free(&big);
}

static void test_nesting_bounded(void **state)
{
	strbuf_t p = {0};
	json_t *data = json_pack("{s:b}", "a", 1), *partials;

	(void)state;
	/* 20 sections per partial: 1000 levels at the 50th partial */
	for (int i = 0; i < 20; i++)
		sb_puts(&p, "{{#a}}");
	sb_puts(&p, "{{>p}}");
	for (int i = 0; i < 20; i++)
		sb_puts(&p, "{{/a}}");
	partials = json_pack("{s:s}", "p", sb_str(&p));
	expect_bounded("{{>p}}", data, partials,
		       "sections and partials nested more than 1000 deep");
	json_decref(partials);
	json_decref(data);
	sb_free(&p);
}

static void test_partial_asked_once(void **state)
{
	json_t *partials = json_pack("{s:s}", "p", "{{.}},");
	json_t *data = json_loads("{\"l\": [1, 2, 3, 4]}", 0, NULL);
	strbuf_t out = {0};
	err_t err = {0};

	(void)state;
	asked = 0;
	assert_int_equal(mustache_render("t", "{{#l}}{{>p}}{{/l}}{{>p}}", data,
					 file_partial, partials, &out, &err),
			 ST_OK);
	assert_string_equal(sb_str(&out), "1,2,3,4,,");
	assert_int_equal(asked, 1);
	/* another indentation is another text */
	sb_free(&out);
	assert_int_equal(mustache_render("t", "{{>p}}\n  {{>p}}\n", data,
					 file_partial, partials, &out, &err),
			 ST_OK);
	assert_int_equal(asked, 3);
	sb_free(&out);
	json_decref(data);
	json_decref(partials);
}

static void test_check(void **state)
{
	json_t *partials =
		json_pack("{s:s, s:s, s:s}", "bad", "ok\n{{#x}}", "self",
			  "{{#a}}{{>self}}{{/a}}", "ok", "{{>self}}{{>nope}}");
	json_t *data = json_object();
	strbuf_t out = {0};
	err_t err = {0};

	(void)state;
	/* rendering never reaches the partial; checking does */
	assert_int_equal(mustache_render("t", "\n{{#no}}{{>bad}}{{/no}}", data,
					 json_partial, partials, &out, &err),
			 ST_OK);
	assert_int_equal(mustache_check("t", "\n{{#no}}{{>bad}}{{/no}}",
					json_partial, partials, &err),
			 ST_DATAERR);
	assert_string_equal(err.msg, "bad:2: unclosed section \"x\" (included "
				     "from t:2)");
	/* recursion, missing partials and none at all are fine */
	assert_int_equal(mustache_check("t", "{{>ok}}{{>self}}", json_partial,
					partials, &err),
			 ST_OK);
	assert_int_equal(mustache_check("t", "{{>ok}}", NULL, NULL, &err),
			 ST_OK);
	assert_int_equal(mustache_check("t", "{{/x}}", NULL, NULL, &err),
			 ST_DATAERR);
	assert_string_equal(err.msg,
			    "t:1: close tag \"x\" without an open section");
	sb_free(&out);
	json_decref(data);
	json_decref(partials);
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
		cmocka_unit_test(test_named_errors),
		cmocka_unit_test(test_expansion_bounded),
		cmocka_unit_test(test_nesting_bounded),
		cmocka_unit_test(test_partial_asked_once),
		cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
