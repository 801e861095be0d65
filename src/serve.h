/*
 * serve: the transports.  Under FastCGI an FCGX_Accept_r loop; started as
 * plain CGI (FCGX_IsCGI), a small driver that serves exactly one request
 * from the environment, stdin and stdout.  Both copy what they need into
 * the request's arena, call the API, write the response, finish, and only
 * then run queued asynchronous work.
 */
#ifndef FLOWCGI_SERVE_H
#define FLOWCGI_SERVE_H

#include "app.h"
#include "arena.h"
#include "buf.h"

int serve_fcgi(struct app *a);
int serve_cgi(struct app *a);

/* A source of request params and body, for the shared request builder. */
struct serve_io {
	const char *(*param)(void *ctx, const char *name);
	/* Read up to n bytes; returns the count, 0 at end, -1 on error. */
	long (*read)(void *ctx, char *buf, size_t n);
	void *ctx;
	char **env; /* every param as NAME=value, for the request headers */
};

/* Build r from io (params copied to the arena, body read), run the API,
 * render into out.  Returns whether the body was read to its declared end
 * (true also without a body). */
bool serve_request(struct app *a, struct arena *arena,
		   const struct serve_io *io, struct buf *out);

#endif
