/* wf_http against a small HTTP/1.1 server that this test runs in a thread
 * on 127.0.0.1 (an ephemeral port; no network needed).  One connection at
 * a time, "Connection: close" on every answer. */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "buf.h"
#include "util.h"
#include "wf_http.h"

static int srv_fd = -1;
static int srv_port;
static pthread_t srv_thread;
static atomic_int srv_requests;
static atomic_bool srv_stop;

/* ---------------------------------------------------------------- server */

static void send_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return; /* the client went away: fine */
		s += w;
		n -= (size_t)w;
	}
}

static void respond(int fd, int status, const char *reason,
		    const char *extra_headers, const char *ctype,
		    const void *body, size_t n)
{
	struct buf b = {0};
	buf_printf(&b, "HTTP/1.1 %d %s\r\nConnection: close\r\n", status,
		   reason);
	if (ctype)
		buf_printf(&b, "Content-Type: %s\r\n", ctype);
	buf_printf(&b, "Content-Length: %zu\r\n%s\r\n", n,
		   extra_headers ? extra_headers : "");
	send_all(fd, b.data, b.len);
	send_all(fd, body, n);
	buf_free(&b);
}

/* Wait until the client hangs up (or 3 s), for the timeout test. */
static void wait_for_close(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;
	if (poll(&p, 1, 3000) > 0)
		(void)recv(fd, &c, 1, 0);
}

static void serve_big(int fd, bool with_length)
{
	size_t n = (size_t)WF_HTTP_MAX_BODY + 1024 * 1024;
	char *chunk = malloc(65536);
	struct buf h = {0};

	memset(chunk, 'x', 65536);
	buf_puts(&h, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
		     "Content-Type: text/plain\r\n");
	if (with_length)
		buf_printf(&h, "Content-Length: %zu\r\n", n);
	buf_puts(&h, "\r\n");
	send_all(fd, h.data, h.len);
	for (size_t sent = 0; sent < n; sent += 65536)
		if (send(fd, chunk, 65536, MSG_NOSIGNAL) <= 0)
			break;
	free(chunk);
	buf_free(&h);
}

static void handle(int fd)
{
	struct buf req = {0}, out = {0};
	char tmp[4096], *end, *line, *save = NULL, *target, *path, *q;
	json_object *echo = NULL, *hdrs;
	size_t clen = 0, hlen;
	struct timeval tv = {.tv_sec = 5};
	char method[16] = "";

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (!(end = strstr(buf_str(&req), "\r\n\r\n"))) {
		ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
		if (r <= 0 || req.len > 65536)
			goto out;
		buf_append(&req, tmp, (size_t)r);
	}
	hlen = (size_t)(end - req.data) + 4;
	*end = 0;
	atomic_fetch_add(&srv_requests, 1);

	hdrs = json_object_new_object();
	line = strtok_r(req.data, "\r\n", &save);
	sscanf(line, "%15s", method);
	target = strchr(line, ' ') + 1;
	*strchr(target, ' ') = 0;
	while ((line = strtok_r(NULL, "\r\n", &save))) {
		char *colon = strchr(line, ':'), *v;
		if (!colon)
			continue;
		*colon = 0;
		for (char *p = line; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		v = colon + 1;
		while (*v == ' ')
			v++;
		json_object_object_add(hdrs, line, json_object_new_string(v));
		if (strcmp(line, "content-length") == 0)
			clen = (size_t)atol(v);
	}
	while (req.len < hlen + clen) {
		ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
		if (r <= 0)
			break;
		buf_append(&req, tmp, (size_t)r);
	}

	echo = json_object_new_object();
	json_object_object_add(echo, "method", json_object_new_string(method));
	json_object_object_add(echo, "target", json_object_new_string(target));
	json_object_object_add(echo, "headers", hdrs);
	json_object_object_add(
		echo, "body",
		json_object_new_string_len(req.data + hlen,
					   (int)(req.len - hlen)));
	path = strdup(target);
	if ((q = strchr(path, '?')))
		*q = 0;

	if (strcmp(path, "/echo") == 0) {
		const char *s = jsonx_str(echo);
		respond(fd, 200, "OK", NULL, "application/json; charset=utf-8",
			s, strlen(s));
	} else if (strcmp(path, "/status/404") == 0) {
		respond(fd, 404, "Not Found", NULL, "application/json",
			"{\"error\":\"nope\"}", 16);
	} else if (strcmp(path, "/status/500") == 0) {
		respond(fd, 500, "Internal Server Error", NULL, "text/plain",
			"boom", 4);
	} else if (strcmp(path, "/text") == 0) {
		respond(fd, 200, "OK", NULL, "text/plain", "hello world", 11);
	} else if (strcmp(path, "/jsontext") == 0) {
		respond(fd, 200, "OK", NULL, "text/plain", " {\"a\":[1,2.5]}\n",
			15);
	} else if (strcmp(path, "/badjson") == 0) {
		respond(fd, 200, "OK", NULL, "application/json", "{oops", 5);
	} else if (strcmp(path, "/binary") == 0) {
		respond(fd, 200, "OK", NULL, "text/plain", "a\xff" "b\xe2\x82",
			5);
	} else if (strcmp(path, "/bom") == 0) {
		respond(fd, 200, "OK", NULL, "application/json",
			"\xef\xbb\xbf[true]", 9);
	} else if (strcmp(path, "/empty") == 0) {
		respond(fd, 204, "No Content", NULL, NULL, "", 0);
	} else if (strcmp(path, "/created") == 0) {
		respond(fd, 201, "Created", NULL, "application/json", "7", 1);
	} else if (strcmp(path, "/slow") == 0) {
		wait_for_close(fd);
		respond(fd, 200, "OK", NULL, "text/plain", "late", 4);
	} else if (strcmp(path, "/redirect") == 0) {
		respond(fd, 302, "Found", "Location: /echo?from=redirect\r\n",
			"text/plain", "moved", 5);
	} else if (strcmp(path, "/see-other") == 0) {
		respond(fd, 303, "See Other", "Location: /echo\r\n", NULL, "",
			0);
	} else if (strcmp(path, "/loop") == 0) {
		respond(fd, 302, "Found", "Location: /loop\r\n", NULL, "", 0);
	} else if (strcmp(path, "/to-ftp") == 0) {
		respond(fd, 302, "Found",
			"Location: ftp://127.0.0.1/etc/passwd\r\n", NULL, "",
			0);
	} else if (strcmp(path, "/to-file") == 0) {
		respond(fd, 302, "Found", "Location: file:///etc/passwd\r\n",
			NULL, "", 0);
	} else if (strcmp(path, "/big") == 0) {
		serve_big(fd, true);
	} else if (strcmp(path, "/bigstream") == 0) {
		serve_big(fd, false);
	} else if (strcmp(path, "/manyheaders") == 0) {
		for (int i = 0; i < WF_HTTP_MAX_HEADERS + 5; i++)
			buf_printf(&out, "X-H%d: %d\r\n", i, i);
		respond(fd, 200, "OK", out.data, "text/plain", "", 0);
	} else if (strcmp(path, "/badname") == 0) {
		respond(fd, 200, "OK", "X-Ok: 1\r\nX-\xff\xfe: v\r\n",
			"text/plain", "ok", 2);
	} else if (strcmp(path, "/folded") == 0) {
		respond(fd, 200, "OK", "X-A: 1\r\n \xff: folded\r\n",
			"text/plain", "ok", 2);
	} else if (strcmp(path, "/cookies") == 0) {
		respond(fd, 200, "OK",
			"Set-Cookie: a=1; Path=/\r\nSet-Cookie: b=2\r\n"
			"X-Dup: 1\r\nx-dup: 2\r\nX-Latin: caf\xe9\r\n"
			"X-Spaces:   padded  \r\n",
			"text/plain", "ok", 2);
	} else {
		respond(fd, 404, "Not Found", NULL, "text/plain", "no route",
			8);
	}
	free(path);
out:
	json_object_put(echo);
	buf_free(&req);
	buf_free(&out);
}

static void *server_main(void *arg)
{
	for (;;) {
		int c = accept(srv_fd, NULL, NULL);
		if (c < 0) {
			if (atomic_load(&srv_stop))
				break;
			continue;
		}
		handle(c);
		close(c);
	}
	return NULL;
}

/* A loopback port nobody listens on. */
static int closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int setup(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv_fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(srv_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (srv_fd < 0 || bind(srv_fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(srv_fd, 16) ||
	    getsockname(srv_fd, (struct sockaddr *)&a, &len))
		return -1;
	srv_port = ntohs(a.sin_port);
	if (wf_http_global_init() != 0)
		return -1;
	return pthread_create(&srv_thread, NULL, server_main, NULL);
}

static int teardown(void **state)
{
	atomic_store(&srv_stop, true);
	shutdown(srv_fd, SHUT_RDWR); /* wakes accept() */
	pthread_join(srv_thread, NULL);
	close(srv_fd);
	wf_http_global_cleanup();
	return 0;
}

/* ---------------------------------------------------------------- helpers */

static char *url(const char *path)
{
	static char u[256];
	snprintf(u, sizeof(u), "http://127.0.0.1:%d%s", srv_port, path);
	return u;
}

/* The echo of a successful call: result.data. */
static json_object *echo_of(json_object *res)
{
	json_object *d = jsonx_get(res, "data");
	assert_non_null(d);
	assert_true(json_object_is_type(d, json_type_object));
	return d;
}

static const char *echo_header(json_object *res, const char *name)
{
	return jsonx_get_str(jsonx_get(echo_of(res), "headers"), name);
}

static void assert_error(json_object *res, const char *code)
{
	assert_non_null(jsonx_get_str(res, "message"));
	assert_string_equal(jsonx_get_str(res, "code"), code);
}

/* ------------------------------------------------------------------ tests */

static void test_get_with_params(void **state)
{
	json_object *params = unit_json(
		"[{\"name\":\"q\",\"value\":\" a b&c \"},"
		"{\"name\":\"n\",\"value\":5},"
		"{\"name\":\"s\",\"value\":\"x:y,[z]$\xc3\xa9/?#'!\"},"
		"{\"name\":\"nil\",\"value\":null},"
		"{\"name\":\"q\",\"value\":\"last\"}]");
	json_object *data = unit_json("{\"ignored\":true}"), *res = NULL;
	struct wf_http_req r = {.url = url("/echo?pre=1#frag"),
				.method = "get",
				.params = params,
				.data = data};

	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_int_equal(json_object_get_int(jsonx_get(res, "status")), 200);
	assert_string_equal(jsonx_get_str(res, "statusText"), "OK");
	assert_string_equal(
		jsonx_get_str(jsonx_get(res, "headers"), "content-type"),
		"application/json; charset=utf-8");
	assert_string_equal(jsonx_get_str(echo_of(res), "method"), "GET");
	/* axios encoding; a repeated name keeps its place, the last value */
	assert_string_equal(jsonx_get_str(echo_of(res), "target"),
			    "/echo?pre=1&q=last&n=5&s=x:y,[z]$%C3%A9%2F%3F%23'!"
			    "&nil=");
	assert_string_equal(jsonx_get_str(echo_of(res), "body"), "");
	assert_null(echo_header(res, "content-length"));
	assert_string_equal(echo_header(res, "accept"),
			    "application/json, text/plain, */*");
	assert_null(echo_header(res, "expect"));
	json_object_put(res);
	json_object_put(params);
	json_object_put(data);
}

static void test_post_json_echo(void **state)
{
	json_object *data =
		unit_json("{\"a\":1,\"b\":[true,null],\"s\":\"x/y \xc3\xa9\"}");
	json_object *res = NULL;
	struct wf_http_req r = {.url = url("/echo"), .data = data};

	/* method and content type default to POST and JSON */
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_get_str(echo_of(res), "method"), "POST");
	assert_string_equal(echo_header(res, "content-type"),
			    "application/json");
	assert_string_equal(jsonx_get_str(echo_of(res), "body"),
			    "{\"a\":1,\"b\":[true,null],\"s\":\"x/y \xc3\xa9\"}");
	json_object_put(res);
	json_object_put(data);

	/* a string that is JSON goes as it is; another string is quoted */
	data = json_object_new_string("  {\"k\": 2}\n");
	r.data = data;
	r.method = "PUT";
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_get_str(echo_of(res), "method"), "PUT");
	assert_string_equal(jsonx_get_str(echo_of(res), "body"), "{\"k\": 2}");
	json_object_put(res);
	json_object_put(data);

	data = json_object_new_string("hello");
	r.data = data;
	r.method = "patch";
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_get_str(echo_of(res), "method"), "PATCH");
	assert_string_equal(jsonx_get_str(echo_of(res), "body"), "\"hello\"");
	json_object_put(res);
	json_object_put(data);

	/* DELETE with a body; POST with none */
	data = unit_json("[1,2]");
	r.data = data;
	r.method = "DELETE";
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_get_str(echo_of(res), "method"), "DELETE");
	assert_string_equal(jsonx_get_str(echo_of(res), "body"), "[1,2]");
	json_object_put(res);
	json_object_put(data);

	r.data = NULL;
	r.method = "POST";
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_get_str(echo_of(res), "body"), "");
	assert_string_equal(echo_header(res, "content-length"), "0");
	json_object_put(res);
}

static void test_form_urlencoded(void **state)
{
	json_object *data =
		unit_json("[{\"name\":\"a\",\"value\":\"1 2\"},"
			  "{\"name\":\"b\",\"value\":\"x&y=z/\xc3\xa9*~\"},"
			  "{\"name\":\"\",\"value\":\"skipped\"},"
			  "{\"name\":\"c\"},"
			  "{\"name\":\"d\",\"value\":null},"
			  "{\"name\":\"e\",\"value\":3.5}]");
	json_object *res = NULL;
	struct wf_http_req r = {
		.url = url("/echo"),
		.content_type = "application/x-www-form-urlencoded",
		.data = data};

	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(echo_header(res, "content-type"),
			    "application/x-www-form-urlencoded");
	assert_string_equal(jsonx_get_str(echo_of(res), "body"),
			    "a=1+2&b=x%26y%3Dz%2F%C3%A9*%7E&d=null&e=3.5");
	json_object_put(res);
	json_object_put(data);

	data = unit_json("{\"k\":\"v w\",\"n\":3}");
	r.data = data;
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_get_str(echo_of(res), "body"), "k=v+w&n=3");
	json_object_put(res);
	json_object_put(data);
}

static void test_multipart(void **state)
{
	json_object *data = unit_json(
		"[{\"valueType\":\"text\",\"name\":\"f\",\"text\":\"hello\"},"
		"{\"name\":\"g\",\"value\":42}]");
	json_object *res = NULL;
	struct wf_http_req r = {.url = url("/echo"),
				.content_type = "multipart/form-data",
				.data = data};
	const char *body;

	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_true(strncmp(echo_header(res, "content-type"),
			    "multipart/form-data; boundary=", 30) == 0);
	body = jsonx_get_str(echo_of(res), "body");
	assert_non_null(strstr(body, "name=\"f\"\r\n\r\nhello\r\n"));
	assert_non_null(strstr(body, "name=\"g\"\r\n\r\n42\r\n"));
	json_object_put(res);
	json_object_put(data);

	/* file fields need the file manager: refused, nothing sent */
	data = unit_json(
		"[{\"valueType\":\"file\",\"name\":\"f\",\"file\":{}}]");
	r.data = data;
	int before = atomic_load(&srv_requests);
	assert_int_equal(wf_http_perform(&r, &res), -1);
	assert_error(res, "ERR_BAD_REQUEST");
	assert_int_equal(atomic_load(&srv_requests), before);
	json_object_put(res);
	json_object_put(data);
}

static void test_text_and_xml(void **state)
{
	json_object *data = json_object_new_int(42), *res = NULL;
	struct wf_http_req r = {.url = url("/echo"),
				.content_type = "text/plain",
				.data = data};

	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(echo_header(res, "content-type"), "text/plain");
	assert_string_equal(jsonx_get_str(echo_of(res), "body"), "42");
	json_object_put(res);
	json_object_put(data);

	data = json_object_new_string("<a x=\"1\"/>");
	r.data = data;
	r.content_type = "application/xml";
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(echo_header(res, "content-type"),
			    "application/xml");
	assert_string_equal(jsonx_get_str(echo_of(res), "body"),
			    "<a x=\"1\"/>");
	json_object_put(res);
	json_object_put(data);
}

static void test_custom_headers(void **state)
{
	json_object *headers =
		unit_json("[{\"name\":\" X-Token \",\"value\":\" abc \"},"
			  "{\"name\":\"Content-Type\",\"value\":\"text/evil\"},"
			  "{\"name\":\"Content-Length\",\"value\":\"999\"},"
			  "{\"name\":\"X-Empty\",\"value\":\"\"},"
			  "{\"name\":\"X-Null\",\"value\":null},"
			  "{\"name\":\"X-Num\",\"value\":7},"
			  "{\"name\":\"User-Agent\",\"value\":\"wf/1\"},"
			  "{\"name\":\"accept\",\"value\":\"text/csv\"},"
			  "{\"name\":\"x-token\",\"value\":\"second\"},"
			  "{\"name\":\"\",\"value\":\"no name\"}]");
	json_object *data = unit_json("{\"x\":1}"), *res = NULL;
	struct wf_http_req r = {.url = url("/echo"),
				.headers = headers,
				.data = data};

	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(echo_header(res, "x-token"), "second");
	assert_string_equal(echo_header(res, "content-type"),
			    "application/json");
	assert_string_equal(echo_header(res, "content-length"), "7");
	assert_string_equal(echo_header(res, "x-empty"), "");
	assert_string_equal(echo_header(res, "x-null"), "");
	assert_string_equal(echo_header(res, "x-num"), "7");
	assert_string_equal(echo_header(res, "user-agent"), "wf/1");
	assert_string_equal(echo_header(res, "accept"), "text/csv");
	json_object_put(res);
	json_object_put(headers);
	json_object_put(data);
}

static void test_header_injection_refused(void **state)
{
	static const char *const bad[] = {
		"[{\"name\":\"X-A\",\"value\":\"a\\r\\nX-Injected: 1\"}]",
		"[{\"name\":\"X-A\",\"value\":\"a\\nb\"}]",
		"[{\"name\":\"X-A\",\"value\":\"a\\u0000b\"}]",
		"[{\"name\":\"X-A\",\"value\":\"a\\u0001b\"}]",
	};
	static const char *const bad_names[] = {
		"[{\"name\":\"Bad Name\",\"value\":\"v\"}]",
		"[{\"name\":\"X-A:\",\"value\":\"v\"}]",
		"[{\"name\":\"X\\r\\nY\",\"value\":\"v\"}]",
	};
	int before = atomic_load(&srv_requests);
	json_object *res = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *h = unit_json(bad[i]);
		struct wf_http_req r = {.url = url("/echo"), .headers = h};
		assert_int_equal(wf_http_perform(&r, &res), -1);
		assert_error(res, "ERR_INVALID_CHAR");
		json_object_put(res);
		json_object_put(h);
	}
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]);
	     i++) {
		json_object *h = unit_json(bad_names[i]);
		struct wf_http_req r = {.url = url("/echo"), .headers = h};
		assert_int_equal(wf_http_perform(&r, &res), -1);
		assert_error(res, "ERR_INVALID_HTTP_TOKEN");
		json_object_put(res);
		json_object_put(h);
	}
	/* the content type is a header value too */
	struct wf_http_req r = {.url = url("/echo"),
				.content_type = "text/plain\r\nX-I: 1"};
	assert_int_equal(wf_http_perform(&r, &res), -1);
	assert_error(res, "ERR_INVALID_CHAR");
	json_object_put(res);
	assert_int_equal(atomic_load(&srv_requests), before);
}

static void test_error_statuses(void **state)
{
	json_object *res = NULL, *d;
	struct wf_http_req r = {.url = url("/status/404"), .method = "GET"};

	assert_int_equal(wf_http_perform(&r, &res), 1);
	assert_string_equal(jsonx_get_str(res, "message"),
			    "Request failed with status code 404");
	assert_string_equal(jsonx_get_str(res, "code"), "ERR_BAD_REQUEST");
	assert_int_equal(json_object_get_int(jsonx_get(res, "status")), 404);
	assert_string_equal(jsonx_get_str(res, "statusText"), "Not Found");
	d = jsonx_get(res, "data");
	assert_string_equal(jsonx_get_str(d, "error"), "nope");
	json_object_put(res);

	r.url = url("/status/500");
	assert_int_equal(wf_http_perform(&r, &res), 1);
	assert_string_equal(jsonx_get_str(res, "message"),
			    "Request failed with status code 500");
	assert_string_equal(jsonx_get_str(res, "code"), "ERR_BAD_RESPONSE");
	assert_string_equal(jsonx_get_str(res, "statusText"),
			    "Internal Server Error");
	assert_string_equal(jsonx_get_str(res, "data"), "boom");
	json_object_put(res);

	/* 2xx other than 200 */
	r.url = url("/created");
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_int_equal(json_object_get_int(jsonx_get(res, "status")), 201);
	assert_int_equal(json_object_get_int(jsonx_get(res, "data")), 7);
	json_object_put(res);
}

static void test_timeout(void **state)
{
	json_object *res = NULL;
	struct wf_http_req r = {
		.url = url("/slow"), .method = "GET", .timeout_ms = 200};
	int64_t t0 = util_mono_ms();

	assert_int_equal(wf_http_perform(&r, &res), WF_HTTP_TIMEOUT);
	assert_true(util_mono_ms() - t0 < 2000);
	assert_string_equal(jsonx_get_str(res, "message"),
			    "timeout of 200ms exceeded");
	assert_string_equal(jsonx_get_str(res, "code"), "ECONNABORTED");
	json_object_put(res);
}

static void test_connection_refused(void **state)
{
	char u[64];
	json_object *res = NULL;
	struct wf_http_req r = {.url = u, .method = "GET"};

	snprintf(u, sizeof(u), "http://127.0.0.1:%d/", closed_port());
	assert_int_equal(wf_http_perform(&r, &res), -1);
	assert_error(res, "ECONNREFUSED");
	assert_true(strlen(jsonx_get_str(res, "message")) > 0);
	json_object_put(res);
}

static void test_invalid_urls(void **state)
{
	static const char *const bad[] = {
		"ftp://127.0.0.1/",
		"file:///etc/passwd",
		"gopher://127.0.0.1/",
		"dict://127.0.0.1:11211/",
		"javascript:alert(1)",
		"http//127.0.0.1/",
		"127.0.0.1/echo",
		"http://",
		"http://:80/path",
		"http://[::1/",
		"http://exa mple.com/",
		"",
		"   ",
		NULL,
	};
	int before = atomic_load(&srv_requests);
	json_object *res = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wf_http_req r = {.url = bad[i], .method = "GET"};
		assert_int_equal(wf_http_perform(&r, &res), -1);
		assert_string_equal(jsonx_get_str(res, "message"),
				    "Invalid URL");
		assert_string_equal(jsonx_get_str(res, "code"),
				    "ERR_INVALID_URL");
		json_object_put(res);
	}
	assert_int_equal(atomic_load(&srv_requests), before);

	/* surrounding white space is trimmed; the scheme is any case */
	char u[128];
	snprintf(u, sizeof(u), "  HTTP://127.0.0.1:%d/echo \n", srv_port);
	struct wf_http_req ok = {.url = u, .method = "GET"};
	assert_int_equal(wf_http_perform(&ok, &res), 0);
	json_object_put(res);
}

static void test_bad_method(void **state)
{
	json_object *res = NULL;
	struct wf_http_req r = {.url = url("/echo"), .method = "TRACE"};
	assert_int_equal(wf_http_perform(&r, &res), -1);
	assert_error(res, "ERR_BAD_REQUEST");
	json_object_put(res);
}

static void test_redirects(void **state)
{
	json_object *res = NULL;
	json_object *data = unit_json("{\"a\":1}");
	struct wf_http_req r = {.url = url("/redirect"), .method = "GET"};

	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_get_str(echo_of(res), "target"),
			    "/echo?from=redirect");
	/* headers are those of the final answer */
	assert_null(jsonx_get(jsonx_get(res, "headers"), "location"));
	json_object_put(res);

	/* POST becomes GET on 303 */
	r.url = url("/see-other");
	r.method = "POST";
	r.data = data;
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_get_str(echo_of(res), "method"), "GET");
	json_object_put(res);
	r.data = NULL;

	r.url = url("/loop");
	r.method = "GET";
	assert_int_equal(wf_http_perform(&r, &res), -1);
	assert_error(res, "ERR_FR_TOO_MANY_REDIRECTS");
	json_object_put(res);

	/* a redirect may not leave http/https */
	r.url = url("/to-ftp");
	assert_int_equal(wf_http_perform(&r, &res), -1);
	assert_error(res, "ERR_BAD_REQUEST");
	json_object_put(res);
	r.url = url("/to-file");
	assert_int_equal(wf_http_perform(&r, &res), -1);
	assert_error(res, "ERR_BAD_REQUEST");
	json_object_put(res);
	json_object_put(data);
}

static void test_response_bodies(void **state)
{
	json_object *res = NULL, *d;
	struct wf_http_req r = {.url = url("/text"), .method = "GET"};

	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_get_str(res, "data"), "hello world");
	json_object_put(res);

	/* JSON by content, whatever the content type says */
	r.url = url("/jsontext");
	assert_int_equal(wf_http_perform(&r, &res), 0);
	d = jsonx_get(res, "data");
	assert_true(json_object_is_type(d, json_type_object));
	assert_string_equal(jsonx_str(d), "{\"a\":[1,2.5]}");
	json_object_put(res);

	/* declared JSON that is not: the text */
	r.url = url("/badjson");
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_get_str(res, "data"), "{oops");
	json_object_put(res);

	/* invalid UTF-8 replaced, as node decodes it */
	r.url = url("/binary");
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_get_str(res, "data"),
			    "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	json_object_put(res);

	r.url = url("/bom");
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_str(jsonx_get(res, "data")), "[true]");
	json_object_put(res);

	r.url = url("/empty");
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_int_equal(json_object_get_int(jsonx_get(res, "status")), 204);
	assert_string_equal(jsonx_get_str(res, "statusText"), "No Content");
	assert_string_equal(jsonx_get_str(res, "data"), "");
	json_object_put(res);
}

static void test_response_headers(void **state)
{
	json_object *res = NULL, *h, *ck;
	struct wf_http_req r = {.url = url("/cookies"), .method = "GET"};

	assert_int_equal(wf_http_perform(&r, &res), 0);
	h = jsonx_get(res, "headers");
	ck = jsonx_get(h, "set-cookie");
	assert_true(json_object_is_type(ck, json_type_array));
	assert_int_equal(json_object_array_length(ck), 2);
	assert_string_equal(
		json_object_get_string(json_object_array_get_idx(ck, 0)),
		"a=1; Path=/");
	assert_string_equal(jsonx_get_str(h, "x-dup"), "1, 2");
	assert_string_equal(jsonx_get_str(h, "x-latin"), "caf\xc3\xa9");
	assert_string_equal(jsonx_get_str(h, "x-spaces"), "padded");
	assert_string_equal(jsonx_get_str(h, "content-length"), "2");
	json_object_put(res);
}

/* Found by fuzz_http_response: a header name of non-ASCII bytes became a
 * key of the result that was not UTF-8. */
static void test_bad_header_names(void **state)
{
	json_object *res = NULL;
	struct wf_http_req r = {.url = url("/badname"), .method = "GET"};

	assert_int_equal(wf_http_perform(&r, &res), -1);
	assert_string_equal(jsonx_get_str(res, "message"),
			    "Parse Error: Invalid header token");
	assert_error(res, "HPE_INVALID_HEADER_TOKEN");
	json_object_put(res);

	r.url = url("/folded");
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_get_str(jsonx_get(res, "headers"), "x-a"),
			    "1");
	/* connection, content-type, content-length, x-a */
	assert_int_equal(json_object_object_length(jsonx_get(res, "headers")),
			 4);
	json_object_put(res);
}

static void test_limits(void **state)
{
	json_object *res = NULL;
	struct wf_http_req r = {
		.url = url("/big"), .method = "GET", .timeout_ms = 20000};
	char msg[64];

	snprintf(msg, sizeof(msg), "maxContentLength size of %ld exceeded",
		 WF_HTTP_MAX_BODY);
	assert_int_equal(wf_http_perform(&r, &res), -1);
	assert_string_equal(jsonx_get_str(res, "message"), msg);
	assert_string_equal(jsonx_get_str(res, "code"), "ERR_BAD_RESPONSE");
	json_object_put(res);

	/* no Content-Length: caught while reading */
	r.url = url("/bigstream");
	assert_int_equal(wf_http_perform(&r, &res), -1);
	assert_string_equal(jsonx_get_str(res, "message"), msg);
	json_object_put(res);

	r.url = url("/manyheaders");
	assert_int_equal(wf_http_perform(&r, &res), -1);
	assert_error(res, "HPE_HEADER_OVERFLOW");
	json_object_put(res);
}

static void test_proxy_environment_ignored(void **state)
{
	static const char *const vars[] = {"http_proxy",  "HTTP_PROXY",
					   "https_proxy", "HTTPS_PROXY",
					   "all_proxy",	  "ALL_PROXY"};
	char proxy[64];
	json_object *res = NULL;
	struct wf_http_req r = {.url = url("/echo"), .method = "GET"};

	/* a proxy that refuses connections: honouring it would fail */
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", closed_port());
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		setenv(vars[i], proxy, 1);
	unsetenv("no_proxy");
	unsetenv("NO_PROXY");
	assert_int_equal(wf_http_perform(&r, &res), 0);
	assert_string_equal(jsonx_get_str(echo_of(res), "target"), "/echo");
	json_object_put(res);
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_with_params),
		cmocka_unit_test(test_post_json_echo),
		cmocka_unit_test(test_form_urlencoded),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_text_and_xml),
		cmocka_unit_test(test_custom_headers),
		cmocka_unit_test(test_header_injection_refused),
		cmocka_unit_test(test_error_statuses),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_invalid_urls),
		cmocka_unit_test(test_bad_method),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_response_bodies),
		cmocka_unit_test(test_response_headers),
		cmocka_unit_test(test_bad_header_names),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_proxy_environment_ignored),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
