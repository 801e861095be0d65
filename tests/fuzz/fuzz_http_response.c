/*
 * fuzz_http_response: what the request node makes of an HTTP response
 * (wf_http.c): the status line, the header callback (names, folding,
 * duplicates, set-cookie, Latin-1, the header limits), the body callback
 * and its limit (after content decoding: gzip, deflate, chunked), the
 * JSON-or-text reading of the body with its UTF-8 repair, and the result
 * object axios' shape is built from, for 2xx and for errors.
 *
 * No network: the program is linked with -Wl,--wrap=curl_easy_perform,
 * and the wrapper below points every connection of the call at a Unix
 * socket of the harness (CURLOPT_UNIX_SOCKET_PATH, so no name is ever
 * resolved, redirects included) and, once libcurl has connected, writes
 * the input bytes into the server's end as the whole answer, then EOF
 * (CURLOPT_PREREQFUNCTION): one thread, no timing.  A redirect that reuses
 * the connection reads the next response from the same bytes; one that
 * opens a new connection gets nothing.  The first input byte picks the
 * method (GET, or POST with a JSON body); the rest is the response.
 *
 * Checks: a result object always; 0 only for a 2xx, 1 for another status
 * with axios' message; the result prints as JSON that parses again and is
 * valid UTF-8 (it is stored in the execution's jobs).
 */
#include "fuzz.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "util.h"
#include "wf_http.h"

CURLcode __real_curl_easy_perform(CURL *h);
CURLcode __wrap_curl_easy_perform(CURL *h);

static const uint8_t *resp;
static size_t resp_len;
static char sock_dir[512], sock_path[600];
static int listener = -1;
static int peers[16], npeers;

/* libcurl has connected (or reused a connection) and is about to send the
 * request: take the server's end of a new connection and put the whole
 * answer in it, then EOF.  Only the first connection of a call gets the
 * bytes; a later one (a redirect that could not reuse it) gets nothing. */
static int prereq(void *ctx, char *ip, char *local_ip, int port,
		  int local_port)
{
	(void)ctx;
	(void)ip;
	(void)local_ip;
	(void)port;
	(void)local_port;
	int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return CURL_PREREQFUNC_OK; /* a reused connection */
	if (npeers == (int)(sizeof(peers) / sizeof(peers[0]))) {
		close(fd);
		return CURL_PREREQFUNC_ABORT;
	}
	peers[npeers++] = fd;
	if (npeers == 1) {
		int sz = 1 << 20;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		for (size_t off = 0; off < resp_len;) {
			ssize_t n = send(fd, resp + off, resp_len - off,
					 MSG_NOSIGNAL);
			if (n <= 0)
				abort();
			off += (size_t)n;
		}
	}
	shutdown(fd, SHUT_WR);
	return CURL_PREREQFUNC_OK;
}

/* Every connection of the call goes to our socket, whatever the host: no
 * name is ever resolved and nothing leaves the process. */
CURLcode __wrap_curl_easy_perform(CURL *h)
{
	npeers = 0;
	curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, sock_path);
	curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, prereq);
	CURLcode cc = __real_curl_easy_perform(h);
	for (int i = 0; i < npeers; i++)
		close(peers[i]);
	npeers = 0;
	return cc;
}

static void cleanup(void)
{
	wf_http_global_cleanup();
	jsonx_cleanup();
	close(listener);
	unlink(sock_path);
	rmdir(sock_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *tmp = getenv("TMPDIR");
	(void)argc;
	(void)argv;
	if (wf_http_global_init())
		abort();
	snprintf(sock_dir, sizeof(sock_dir), "%s/flowcgi-fuzz-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(sock_dir))
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/s", sock_dir);
	if (strlen(sock_path) >= sizeof(sa.sun_path))
		abort();
	strcpy(sa.sun_path, sock_path);
	listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			  0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(listener, 16))
		abort();
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *body = NULL, *res = NULL, *again = NULL;
	char err[256];
	int rc;

	if (size < 1)
		return 0;
	resp = data + 1;
	resp_len = size - 1;
	body = fuzz_json("{\"a\":1,\"b\":[\"x\"]}");
	struct wf_http_req r = {
		.url = "http://127.0.0.1:9/hook?x=1",
		.method = data[0] & 1 ? "GET" : "POST",
		.data = body,
		.timeout_ms = 5000,
	};
	rc = wf_http_perform(&r, &res);
	FUZZ_CHECK(res && json_object_is_type(res, json_type_object),
		   "no result object");
	FUZZ_CHECK(rc == 0 || rc == 1 || rc == -1, "rc %d (a timeout?)", rc);
	if (rc == 0 || rc == 1) {
		int64_t status = 0;
		FUZZ_CHECK(jsonx_get_int(res, "status", &status),
			   "no status: %s", jsonx_str(res));
		FUZZ_CHECK((rc == 0) == (status >= 200 && status < 300),
			   "rc %d for status %lld", rc, (long long)status);
		FUZZ_CHECK(json_object_is_type(jsonx_get(res, "headers"),
					       json_type_object),
			   "headers are not an object");
		FUZZ_CHECK(jsonx_get_str(res, "statusText"), "no statusText");
		if (rc == 1)
			FUZZ_CHECK(jsonx_get_str(res, "message") &&
					   jsonx_get_str(res, "code"),
				   "an error status without message and code");
	} else {
		FUZZ_CHECK(jsonx_get_str(res, "message"), "no message: %s",
			   jsonx_str(res));
	}
	const char *text = jsonx_str(res);
	if (getenv("FUZZ_DEBUG"))
		fprintf(stderr, "rc %d: %s\n", rc, text);
	FUZZ_CHECK(util_utf8_valid(text, strlen(text)),
		   "the result is not UTF-8: %.300s", text);
	FUZZ_CHECK(!jsonx_parse(text, strlen(text), 1000, &again, err,
				sizeof(err)),
		   "the result does not parse again (%s): %.300s", err, text);
	json_object_put(again);
	json_object_put(res);
	json_object_put(body);
	return 0;
}
