/* serve: see serve.h. */
#include "serve.h"

#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "buf.h"
#include "err.h"
#include "log.h"
#include "maint.h"
#include "metrics.h"
#include "req.h"
#include "store.h"
#include "util.h"
#include "wf_queue.h"

static const char *copy(struct req *r, const struct serve_io *io,
			const char *name)
{
	return arena_strdup(r->arena, io->param(io->ctx, name));
}

/* PATH_INFO, else REQUEST_URI minus SCRIPT_NAME and the query. */
static const char *request_path(struct req *r, const struct serve_io *io)
{
	const char *pi = io->param(io->ctx, "PATH_INFO");
	const char *uri, *sn;
	if (pi && *pi)
		return arena_strdup(r->arena, pi);
	uri = io->param(io->ctx, "REQUEST_URI");
	if (!uri)
		return "";
	sn = io->param(io->ctx, "SCRIPT_NAME");
	size_t n = strcspn(uri, "?");
	if (sn && *sn && !strncmp(uri, sn, strlen(sn)) && strlen(sn) <= n) {
		uri += strlen(sn);
		n -= strlen(sn);
	}
	return arena_strndup(r->arena, uri, n);
}

/* True when the body was read to its declared end (or there was none). */
static bool read_body(struct req *r, const struct serve_io *io)
{
	long long want = r->content_length;
	if (want <= 0)
		return true;
	if (want > r->app->cfg.max_body)
		return false;
	char *b = arena_alloc(r->arena, (size_t)want + 1);
	size_t got = 0;
	while ((long long)got < want) {
		long n = io->read(io->ctx, b + got, (size_t)(want - (long long)got));
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	b[got] = 0;
	r->body = b;
	r->body_len = got;
	return (long long)got == want;
}

/* The request log: one line per request, with the route it took; the
 * same request counted in the metrics under the same route name. */
static void log_line(struct req *r)
{
	struct buf route = {0}, line = {0};
	if (r->route) {
		api_route_resource(r->route, &route);
		buf_printf(&route, ":%s", r->route->action);
	}
	req_log_line(r, r->route ? buf_str(&route) : NULL, &line);
	log_request(line.data, line.len);
	metrics_request(r->route ? buf_str(&route) : NULL, req_status(r),
			(double)(util_mono_us() - r->started_us) / 1e6);
	buf_free(&route);
	buf_free(&line);
}

bool serve_request(struct app *a, struct arena *arena,
		   const struct serve_io *io, struct buf *out)
{
	struct req r;
	const char *cl;
	int64_t n;
	bool drained = false;

	req_begin(&r, a, arena);
	r.started_us = util_mono_us();
	r.method = copy(&r, io, "REQUEST_METHOD");
	if (!r.method)
		r.method = "GET";
	r.path = request_path(&r, io);
	r.query_string = copy(&r, io, "QUERY_STRING");
	r.content_type = copy(&r, io, "CONTENT_TYPE");
	r.authorization = copy(&r, io, "HTTP_AUTHORIZATION");
	r.x_role = copy(&r, io, "HTTP_X_ROLE");
	r.x_data_source = copy(&r, io, "HTTP_X_DATA_SOURCE");
	r.x_authenticator = copy(&r, io, "HTTP_X_AUTHENTICATOR");
	r.x_timezone = copy(&r, io, "HTTP_X_TIMEZONE");
	r.accept = copy(&r, io, "HTTP_ACCEPT");
	r.origin = copy(&r, io, "HTTP_ORIGIN");
	r.uri = copy(&r, io, "REQUEST_URI");
	r.idempotency_key = copy(&r, io, "HTTP_IDEMPOTENCY_KEY");
	r.env = io->env;
	r.remote_addr = copy(&r, io, "REMOTE_ADDR");
	req_set_request_id(&r, io->param(io->ctx, "HTTP_X_REQUEST_ID"));
	cl = io->param(io->ctx, "CONTENT_LENGTH");
	if (cl && *cl) {
		if (util_parse_int64(cl, &n) || n < 0) {
			req_fail(&r, APP_EPARAM, "Content-Length is not a number");
			goto render;
		}
		r.content_length = n;
	}
	drained = read_body(&r, io);
	api_handle(&r);
render:
	req_render(&r, out);
	log_line(&r);
	req_end(&r);
	return drained;
}

/* ---- FastCGI ---- */

static const char *fcgx_param(void *ctx, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

static long fcgx_read(void *ctx, char *buf, size_t n)
{
	int chunk = n > 1 << 20 ? 1 << 20 : (int)n;
	return FCGX_GetStr(buf, chunk, ((FCGX_Request *)ctx)->in);
}

static void fcgx_log(void *ctx, const char *line)
{
	FCGX_Request *req = ctx;
	if (req->err)
		FCGX_PutS(line, req->err);
	else
		fputs(line, stderr);
}

int serve_fcgi(struct app *a)
{
	FCGX_Request req;
	struct arena *arena = arena_new();
	struct buf out = {0};

	if (FCGX_Init() || FCGX_InitRequest(&req, 0, 0)) {
		log_error("FCGX_Init failed");
		return 1;
	}
	metrics_register_process();
	/* Work a dead process left behind: orphans become ABORTED, queued
	 * executions run now, before the first request. */
	wf_queue_recover(a);
	if (a->st && !app_refresh(a)) {
		int n;
		wf_queue_run(a, &n);
	}
	while (FCGX_Accept_r(&req) >= 0) {
		struct serve_io io = {fcgx_param, fcgx_read, &req, req.envp};
		log_set_sink(fcgx_log, &req);
		bool drained = serve_request(a, arena, &io, &out);
		FCGX_PutStr(out.data, (int)out.len, req.out);
		log_set_sink(NULL, NULL);
		/* libfcgi ends a connection with shutdown() and then waits (up
		 * to 2 s) for the server to close its side: under load that is
		 * a sleep per request until the server's event loop comes
		 * round.  Once the input is read up to its end record nothing
		 * is left unread, so a plain close() loses nothing, and
		 * FCGX_Detach makes FCGX_Finish_r do just that. */
		if (drained && FCGX_GetChar(req.in) == EOF &&
		    FCGX_HasSeenEOF(req.in) == EOF)
			FCGX_Detach(&req);
		FCGX_Finish_r(&req);
		buf_reset(&out);
		arena_reset(arena);
		/* The response is out: now the queued asynchronous work, then
		 * the WAL checkpoint, both outside any writers' lock. */
		wf_queue_after_response(a);
		maint_tick(a);
		if (out.cap > (1 << 20))
			buf_free(&out);
	}
	FCGX_Free(&req, 1);
	buf_free(&out);
	arena_free(arena);
	return 0;
}

/* ---- plain CGI ---- */

static const char *env_param(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

static long stdin_read(void *ctx, char *buf, size_t n)
{
	(void)ctx;
	size_t got = fread(buf, 1, n, stdin);
	return got == 0 && ferror(stdin) ? -1 : (long)got;
}

int serve_cgi(struct app *a)
{
	struct arena *arena = arena_new();
	struct buf out = {0};
	struct serve_io io = {env_param, stdin_read, NULL, environ};

	serve_request(a, arena, &io, &out);
	fwrite(out.data, 1, out.len, stdout);
	fflush(stdout);
	buf_free(&out);
	arena_free(arena);
	/* CGI has no "after": the process ends, so queued work runs now,
	 * with stdout already complete and closed. */
	fclose(stdout);
	/* A CGI process is a new process: besides this request's queued
	 * work it runs what an earlier one left behind. */
	a->queued = true;
	wf_queue_after_response(a);
	maint_tick(a);
	return 0;
}
