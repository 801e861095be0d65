/* metrics: several processes add to one shared file; a render in any of
 * them shows the sum, in the text format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"

static char dir[] = "/tmp/flowcgi-metrics-test-XXXXXX";

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	setenv("FLOWCGI_RUN_DIR", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	metrics_close();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* The line of out that starts with prefix, or NULL. */
static const char *line(const char *out, const char *prefix)
{
	for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, prefix, strlen(prefix)))
			return p + strlen(prefix);
	return NULL;
}

static void test_processes_add_up(void **state)
{
	struct buf out = {0};
	assert_int_equal(metrics_open("/nonexistent/a.db"), 0);
	assert_non_null(metrics_path());
	for (int c = 0; c < 4; c++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			for (int i = 0; i < 1000; i++) {
				metrics_request("<collection>:get", 200, 0.002);
				metrics_request("<collection>:get", 404, 0.02);
			}
			metrics_execution("k1", 1);
			metrics_execution("k\"2", -1);
			_exit(0);
		}
	}
	for (int c = 0; c < 4; c++) {
		int st;
		assert_true(wait(&st) > 0);
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	metrics_render(&out);
	const char *s = buf_str(&out);
	const char *v = line(s, "flowcgi_http_requests_total{route=\"<collection>:get\",status=\"200\"} ");
	assert_non_null(v);
	assert_int_equal(atoi(v), 4000);
	v = line(s, "flowcgi_http_request_duration_seconds_bucket{route=\"<collection>:get\",le=\"0.0025\"} ");
	assert_non_null(v);
	assert_int_equal(atoi(v), 4000);
	v = line(s, "flowcgi_http_request_duration_seconds_count{route=\"<collection>:get\"} ");
	assert_non_null(v);
	assert_int_equal(atoi(v), 8000);
	v = line(s, "flowcgi_workflow_executions_total{workflow=\"k1\",status=\"resolved\"} ");
	assert_non_null(v);
	assert_int_equal(atoi(v), 4);
	/* Label values are escaped. */
	v = line(s, "flowcgi_workflow_executions_total{workflow=\"k\\\"2\",status=\"failed\"} ");
	assert_non_null(v);
	assert_int_equal(atoi(v), 4);
	buf_free(&out);
}

static void test_another_database_another_file(void **state)
{
	char first[4096];
	snprintf(first, sizeof(first), "%s", metrics_path());
	metrics_close();
	assert_int_equal(metrics_open("/nonexistent/b.db"), 0);
	assert_string_not_equal(first, metrics_path());
	metrics_close();
	assert_int_equal(metrics_open("/nonexistent/a.db"), 0);
	assert_string_equal(first, metrics_path());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_processes_add_up),
		cmocka_unit_test(test_another_database_another_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
