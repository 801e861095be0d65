/* wf_http: see wf_http.h. */
#include "wf_http.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "buf.h"
#include "jsonx.h"
#include "util.h"

/* What NocoBase's axios sends when no Accept header is given. */
#define DEFAULT_ACCEPT "Accept: application/json, text/plain, */*"
#define USER_AGENT "flowcgi"

struct xfer {
	struct buf body;
	bool body_too_large;
	/* Headers of the latest response (a redirect starts over). */
	json_object *headers;
	int nheaders;
	size_t header_bytes;
	bool headers_too_large;
	bool bad_header_name;
	struct buf status_text;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int wf_http_global_init(void)
{
	pthread_once(&init_once, global_init);
	return init_rc == CURLE_OK ? 0 : -1;
}

void wf_http_global_cleanup(void)
{
	if (init_rc == CURLE_OK)
		curl_global_cleanup();
	init_rc = CURLE_FAILED_INIT;
}

static json_object *error_result(const char *message, const char *code)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "message", json_object_new_string(message));
	if (code)
		json_object_object_add(o, "code", json_object_new_string(code));
	return o;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Trim ASCII white space off s in place; returns s. */
static char *trim(char *s)
{
	size_t a = 0, n = strlen(s);
	while (a < n && is_space(s[a]))
		a++;
	while (n > a && is_space(s[n - 1]))
		n--;
	memmove(s, s + a, n - a);
	s[n - a] = 0;
	return s;
}

/* lodash trim(v), which is trim(String(v)) with null and absent as "";
 * a new malloc'd string. */
static char *trimmed_js_string(json_object *v)
{
	return trim(jsonx_to_js_string(v, true));
}

/* A JSON string member's bytes must not hide a NUL: it would cut the text
 * short where the caller cannot see it. */
static bool has_nul(json_object *v)
{
	return json_object_is_type(v, json_type_string) &&
	       strlen(json_object_get_string(v)) !=
		       (size_t)json_object_get_string_len(v);
}

/* ASCII only, whatever the locale. */
static bool is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* RFC 9110 token characters. */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!is_alnum(c) && !strchr("!#$%&'*+-.^_`|~", c))
			return false;
	}
	return true;
}

/* Latin-1 bytes to UTF-8, as node decodes header text. */
static void latin1_append(struct buf *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x80) {
			buf_putc(b, (char)c);
		} else {
			buf_putc(b, (char)(0xC0 | (c >> 6)));
			buf_putc(b, (char)(0x80 | (c & 0x3F)));
		}
	}
}

/* Copy n bytes, each ill-formed UTF-8 sequence (its maximal subpart)
 * replaced by U+FFFD, as node's TextDecoder and Buffer.toString do. */
static void utf8_sanitize(struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i], lo = 0x80, hi = 0xBF;
		int need;
		size_t j;
		bool ok;

		if (c < 0x80) {
			buf_putc(out, (char)c);
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			need = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			need = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			need = 3;
		else
			need = 0;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
		else if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
		j = i + 1;
		ok = need > 0;
		for (int k = 0; k < need; k++, j++) {
			if (j >= n || p[j] < lo || p[j] > hi) {
				ok = false;
				break; /* p[j] starts over */
			}
			lo = 0x80;
			hi = 0xBF;
		}
		if (ok)
			buf_append(out, p + i, j - i);
		else
			buf_puts(out, "\xEF\xBF\xBD");
		i = j;
	}
}

/* axios' param encoding: encodeURIComponent, then ':', '$', ',', '[' and
 * ']' kept and space as '+'. */
static void axios_encode(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (is_alnum(*p) || strchr("-_.!~*'():$,[]", *p))
			buf_putc(b, (char)*p);
		else if (*p == ' ')
			buf_putc(b, '+');
		else
			buf_printf(b, "%%%02X", *p);
	}
}

/* URLSearchParams' application/x-www-form-urlencoded serialiser. */
static void form_encode(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (is_alnum(*p) || strchr("*-._", *p))
			buf_putc(b, (char)*p);
		else if (*p == ' ')
			buf_putc(b, '+');
		else
			buf_printf(b, "%%%02X", *p);
	}
}

/* Node's rule for header text: tab, printable ASCII and bytes >= 0x80. */
static bool header_text_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7F)
			return false;
	return true;
}

/* One request being prepared. */
struct call {
	const struct wf_http_req *r;
	const char *method;
	const char *ctype;
	struct buf url;
	struct curl_slist *headers;
	bool has_body;
	struct buf body;
	curl_mime *mime;
	json_object *err; /* the result of a refusal before sending */
};

static int refuse(struct call *c, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct call *c, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_put(c->err);
	c->err = error_result(msg, code);
	return -1;
}

static int set_method(struct call *c)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH",
					      "DELETE"};
	const char *m = c->r->method && *c->r->method ? c->r->method : "POST";
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (strcasecmp(m, methods[i]) == 0) {
			c->method = methods[i];
			return 0;
		}
	}
	return refuse(c, "ERR_BAD_REQUEST", "Unsupported method %.64s", m);
}

/* The url, trimmed, with the params appended. */
static int build_url(struct call *c)
{
	const struct wf_http_req *r = c->r;
	const char *a, *e;
	json_object *ps = NULL;
	CURLU *h = NULL;
	char *scheme = NULL, *host = NULL;
	bool first;
	int rc = -1;

	if (!r->url)
		goto out;
	a = r->url;
	e = a + strlen(a);
	while (a < e && is_space(*a))
		a++;
	while (e > a && is_space(e[-1]))
		e--;
	buf_append(&c->url, a, (size_t)(e - a));
	if (strncasecmp(buf_str(&c->url), "http://", 7) != 0 &&
	    strncasecmp(buf_str(&c->url), "https://", 8) != 0)
		goto out;

	/* A later param of the same name replaces an earlier one in its
	 * place, as NocoBase's reduce into an object does. */
	ps = json_object_new_object();
	if (json_object_is_type(r->params, json_type_array)) {
		size_t n = json_object_array_length(r->params);
		for (size_t i = 0; i < n; i++) {
			json_object *p = json_object_array_get_idx(r->params, i);
			json_object *name = jsonx_get(p, "name");
			char *k, *v;
			if (!name || json_object_is_type(name, json_type_null))
				continue;
			k = jsonx_to_js_string(name, false);
			v = trimmed_js_string(jsonx_get(p, "value"));
			json_object_object_add(ps, k,
					       json_object_new_string(v));
			free(k);
			free(v);
		}
	}
	if (json_object_object_length(ps) > 0) {
		char *hash = strchr(c->url.data, '#');
		if (hash) {
			c->url.len = (size_t)(hash - c->url.data);
			c->url.data[c->url.len] = 0;
		}
		first = strchr(c->url.data, '?') == NULL;
		json_object_object_foreach(ps, k, v)
		{
			buf_putc(&c->url, first ? '?' : '&');
			first = false;
			axios_encode(&c->url, k);
			buf_putc(&c->url, '=');
			axios_encode(&c->url, json_object_get_string(v));
		}
	}

	h = curl_url();
	if (!h ||
	    curl_url_set(h, CURLUPART_URL, buf_str(&c->url), 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if ((strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    !*host)
		goto out;
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(h);
	json_object_put(ps);
	if (rc != 0)
		refuse(c, "ERR_INVALID_URL", "Invalid URL");
	return rc;
}

static void add_header(struct call *c, const char *line)
{
	struct curl_slist *l = curl_slist_append(c->headers, line);
	if (!l)
		util_oom();
	c->headers = l;
}

/* One {name, value} of the node's headers into seen: lower-case name ->
 * [first spelling, last value] (axios' AxiosHeaders).  -1 after refusing
 * a name or value that is not sendable. */
static int collect_header(struct call *c, json_object *h, json_object *seen)
{
	json_object *jv = jsonx_get(h, "value"), *prev;
	char *name = trimmed_js_string(jsonx_get(h, "name"));
	char *value = trimmed_js_string(jv);
	char *lc = util_xstrdup(name);
	int bad = 0;

	for (char *p = lc; *p; p++)
		*p = ascii_lower(*p);
	if (!*name) {
		/* nothing to send */
	} else if (!is_token(name) || has_nul(jsonx_get(h, "name"))) {
		bad = refuse(c, "ERR_INVALID_HTTP_TOKEN",
			     "Header name must be a valid HTTP token "
			     "[\"%.64s\"]",
			     name);
	} else if (!header_text_ok(value) || has_nul(jv)) {
		bad = refuse(c, "ERR_INVALID_CHAR",
			     "Invalid character in header content [\"%.64s\"]",
			     name);
	} else if (strcmp(lc, "content-type") == 0 ||
		   strcmp(lc, "content-length") == 0 ||
		   strcmp(lc, "transfer-encoding") == 0) {
		/* content_type decides the first (as in NocoBase); libcurl
		 * frames the body */
	} else if ((prev = jsonx_get(seen, lc))) {
		json_object_array_put_idx(prev, 1,
					  json_object_new_string(value));
	} else {
		prev = json_object_new_array();
		json_object_array_add(prev, json_object_new_string(name));
		json_object_array_add(prev, json_object_new_string(value));
		json_object_object_add(seen, lc, prev);
	}
	free(name);
	free(value);
	free(lc);
	return bad;
}

/* The header lines: Accept unless given, Content-Type, no Expect, then
 * the collected ones. */
static void add_headers(struct call *c, json_object *seen)
{
	struct buf line = {0};

	if (!jsonx_has(seen, "accept"))
		add_header(c, DEFAULT_ACCEPT);
	/* multipart: libcurl writes the type with its boundary */
	if (strcmp(c->ctype, "multipart/form-data") != 0) {
		buf_printf(&line, "Content-Type: %s", c->ctype);
		add_header(c, buf_str(&line));
	}
	/* node never sends "Expect: 100-continue"; libcurl would for large
	 * bodies and then wait for an answer a server may never give. */
	if (!jsonx_has(seen, "expect"))
		add_header(c, "Expect:");
	json_object_object_foreach(seen, lc, pair)
	{
		const char *name = json_object_get_string(
			json_object_array_get_idx(pair, 0));
		const char *v = json_object_get_string(
			json_object_array_get_idx(pair, 1));
		(void)lc; /* keyed lower-case; sent as first spelled */
		buf_reset(&line);
		/* "Name;" is libcurl's spelling of an empty header */
		if (*v)
			buf_printf(&line, "%s: %s", name, v);
		else
			buf_printf(&line, "%s;", name);
		add_header(c, buf_str(&line));
	}
	buf_free(&line);
}

static int build_headers(struct call *c)
{
	json_object *hs = c->r->headers, *seen = json_object_new_object();
	size_t n = json_object_is_type(hs, json_type_array)
			   ? json_object_array_length(hs)
			   : 0;
	int rc = 0;

	for (size_t i = 0; !rc && i < n; i++)
		rc = collect_header(c, json_object_array_get_idx(hs, i), seen);
	if (!rc && !header_text_ok(c->ctype))
		rc = refuse(c, "ERR_INVALID_CHAR",
			    "Invalid character in header content "
			    "[\"Content-Type\"]");
	if (!rc)
		add_headers(c, seen);
	json_object_put(seen);
	return rc;
}

/* Fields of a form body: an array of {name, value} (NocoBase's shape;
 * multipart also {valueType: "text", name, text}) or an object.  Calls
 * add for each field that has a name and a value; returns 0 or -1. */
typedef int (*field_fn)(struct call *c, const char *name, json_object *v);

static int each_field(struct call *c, field_fn add)
{
	json_object *d = c->r->data;

	if (json_object_is_type(d, json_type_object)) {
		json_object_object_foreach(d, k, v)
		{
			if (*k && add(c, k, v) != 0)
				return -1;
		}
		return 0;
	}
	if (!json_object_is_type(d, json_type_array))
		return refuse(c, "ERR_BAD_REQUEST",
			      "Form data must be an array of {name, value} "
			      "or an object");
	for (size_t i = 0; i < json_object_array_length(d); i++) {
		json_object *f = json_object_array_get_idx(d, i);
		json_object *name = jsonx_get(f, "name"), *v;
		const char *vt = jsonx_get_str(f, "valueType"), *vkey;
		char *k;
		int rc;

		if (vt && strcmp(vt, "file") == 0)
			return refuse(c, "ERR_BAD_REQUEST",
				      "File fields are not supported in "
				      "multipart/form-data");
		vkey = vt && strcmp(vt, "text") == 0 ? "text" : "value";
		v = jsonx_get(f, vkey);
		/* as NocoBase: a falsy name or an absent value is skipped */
		if (!jsonx_truthy(name) || !jsonx_has(f, vkey))
			continue;
		k = jsonx_to_js_string(name, false);
		rc = add(c, k, v);
		free(k);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* String(v) of a value known to be present: json-c's NULL is JSON null. */
static char *present_js_string(json_object *v)
{
	return v ? jsonx_to_js_string(v, false) : util_xstrdup("null");
}

static int add_form_field(struct call *c, const char *name, json_object *v)
{
	char *s = present_js_string(v);
	if (c->body.len > 0)
		buf_putc(&c->body, '&');
	form_encode(&c->body, name);
	buf_putc(&c->body, '=');
	form_encode(&c->body, s);
	free(s);
	return 0;
}

static int add_mime_field(struct call *c, const char *name, json_object *v)
{
	curl_mimepart *part = curl_mime_addpart(c->mime);
	char *s = present_js_string(v);
	int rc = 0;

	if (!part || curl_mime_name(part, name) != CURLE_OK ||
	    curl_mime_data(part, s, CURL_ZERO_TERMINATED) != CURLE_OK)
		rc = refuse(c, "ERR_BAD_REQUEST", "Invalid multipart field");
	free(s);
	return rc;
}

/* The request body, as NocoBase's transformers and then axios make it. */
static int build_body(struct call *c, CURL *h)
{
	json_object *d = c->r->data;
	const char *ct = c->ctype;

	if (!d || strcmp(c->method, "GET") == 0)
		return 0;
	c->has_body = true;
	if (strcmp(ct, "application/json") == 0) {
		/* axios sends a string that parses as JSON as it is
		 * (trimmed), any other value as JSON text */
		if (json_object_is_type(d, json_type_string)) {
			const char *s = json_object_get_string(d);
			json_object *tmp = NULL;
			char err[64];
			if (jsonx_parse(s, (size_t)json_object_get_string_len(d),
					JSONX_MAX_DEPTH, &tmp, err,
					sizeof(err)) == 0) {
				char *t = trim(util_xstrdup(s));
				buf_puts(&c->body, t);
				free(t);
				json_object_put(tmp);
				return 0;
			}
		}
		buf_puts(&c->body, jsonx_str(d));
	} else if (strcmp(ct, "application/x-www-form-urlencoded") == 0) {
		if (json_object_is_type(d, json_type_string))
			buf_puts(&c->body, json_object_get_string(d));
		else if (each_field(c, add_form_field) != 0)
			return -1;
	} else if (strcmp(ct, "multipart/form-data") == 0) {
		c->mime = curl_mime_init(h);
		if (!c->mime || each_field(c, add_mime_field) != 0)
			return c->err ? -1
				      : refuse(c, "ERR_BAD_REQUEST",
					       "Invalid multipart data");
	} else if (strcmp(ct, "text/plain") == 0 ||
		   !json_object_is_type(d, json_type_string)) {
		char *s = strcmp(ct, "text/plain") == 0
				  ? jsonx_to_js_string(d, false)
				  : util_xstrdup(jsonx_str(d));
		buf_puts(&c->body, s);
		free(s);
	} else {
		buf_append(&c->body, json_object_get_string(d),
			   (size_t)json_object_get_string_len(d));
	}
	return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	if (x->body.len + n > (size_t)WF_HTTP_MAX_BODY) {
		x->body_too_large = true;
		return 0;
	}
	buf_append(&x->body, p, n);
	return n;
}

static void reset_response(struct xfer *x)
{
	json_object_put(x->headers);
	x->headers = json_object_new_object();
	x->nheaders = 0;
	x->header_bytes = 0;
	buf_reset(&x->body);
	buf_reset(&x->status_text);
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb, len = n;
	const char *colon, *v, *e;
	char name[128];
	size_t nlen;
	json_object *prev;
	struct buf val = {0};

	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* a new response (after a redirect): "HTTP/1.1 404 Not Found" */
		reset_response(x);
		v = memchr(p, ' ', len);
		v = v ? memchr(v + 1, ' ', len - (size_t)(v + 1 - p)) : NULL;
		if (v)
			latin1_append(&x->status_text, v + 1,
				      len - (size_t)(v + 1 - p));
		return n;
	}
	x->header_bytes += n;
	if (len == 0)
		return n;
	if (++x->nheaders > WF_HTTP_MAX_HEADERS ||
	    x->header_bytes > WF_HTTP_MAX_HEADER_BYTES) {
		x->headers_too_large = true;
		return 0;
	}
	colon = memchr(p, ':', len);
	/* lines without a name (obsolete folding) are dropped */
	if (!colon || colon == p || p[0] == ' ' || p[0] == '\t' ||
	    (size_t)(colon - p) >= sizeof(name))
		return n;
	nlen = (size_t)(colon - p);
	for (size_t i = 0; i < nlen; i++)
		name[i] = ascii_lower(p[i]);
	name[nlen] = 0;
	/* A name that is not an HTTP token ends the call as node's parser
	 * ends it.  Kept, its raw bytes became a key of the result, which is
	 * invalid UTF-8 when they are not ASCII (found by
	 * fuzz_http_response). */
	if (!is_token(name)) {
		x->bad_header_name = true;
		return 0;
	}
	v = colon + 1;
	e = p + len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	latin1_append(&val, v, (size_t)(e - v));
	prev = jsonx_get(x->headers, name);
	if (strcmp(name, "set-cookie") == 0) {
		if (!prev) {
			prev = json_object_new_array();
			json_object_object_add(x->headers, name, prev);
		}
		json_object_array_add(prev, json_object_new_string_len(
						    buf_str(&val),
						    (int)val.len));
	} else {
		if (prev) {
			struct buf j = {0};
			buf_puts(&j, json_object_get_string(prev));
			buf_puts(&j, ", ");
			buf_append(&j, buf_str(&val), val.len);
			buf_free(&val);
			val = j;
		}
		json_object_object_add(x->headers, name,
				       json_object_new_string_len(
					       buf_str(&val), (int)val.len));
	}
	buf_free(&val);
	return n;
}

/* The response body as axios returns it: parsed when it is JSON whatever
 * the content type says, else the text. */
static json_object *body_value(const char *p, size_t n)
{
	json_object *o = NULL;
	struct buf s = {0};
	char err[64];

	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		p += 3;
		n -= 3;
	}
	if (n > 0 &&
	    jsonx_parse(p, n, JSONX_MAX_DEPTH, &o, err, sizeof(err)) == 0)
		return o;
	utf8_sanitize(&s, p, n);
	o = json_object_new_string_len(buf_str(&s), (int)s.len);
	buf_free(&s);
	return o;
}

/* The error code node would give for a failed transfer. */
static const char *curl_code_name(CURLcode cc, long oserr)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		switch (oserr) {
		case EHOSTUNREACH:
			return "EHOSTUNREACH";
		case ENETUNREACH:
			return "ENETUNREACH";
		case ETIMEDOUT:
			return "ETIMEDOUT";
		default:
			return "ECONNREFUSED";
		}
	case CURLE_COULDNT_RESOLVE_HOST:
		return "ENOTFOUND";
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return "ECONNRESET";
	case CURLE_PEER_FAILED_VERIFICATION:
		return "UNABLE_TO_VERIFY_LEAF_SIGNATURE";
	case CURLE_SSL_CONNECT_ERROR:
		return "EPROTO";
	case CURLE_TOO_MANY_REDIRECTS:
		return "ERR_FR_TOO_MANY_REDIRECTS";
	case CURLE_UNSUPPORTED_PROTOCOL:
		return "ERR_BAD_REQUEST";
	case CURLE_URL_MALFORMAT:
		return "ERR_INVALID_URL";
	default:
		return "ERR_NETWORK";
	}
}

static int set_options(struct call *c, CURL *h, struct xfer *x, char *errbuf,
		       long timeout)
{
	CURLcode e = CURLE_OK;

#define SET(opt, val)                                                          \
	do {                                                                   \
		if (e == CURLE_OK)                                             \
			e = curl_easy_setopt(h, opt, val);                     \
	} while (0)
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_URL, buf_str(&c->url));
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, (long)WF_HTTP_MAX_REDIRS);
	/* "" disables proxies, the environment's included */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_TIMEOUT_MS, timeout);
	SET(CURLOPT_CONNECTTIMEOUT_MS, timeout);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	/* decoded bytes count against the body limit */
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_USERAGENT, USER_AGENT);
	SET(CURLOPT_HTTPHEADER, c->headers);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)WF_HTTP_MAX_BODY);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);

	if (strcmp(c->method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else {
		/* POST proper, so that a 301/302/303 turns it into GET */
		if (strcmp(c->method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, c->method);
		if (c->mime) {
			SET(CURLOPT_MIMEPOST, c->mime);
		} else if (c->has_body || strcmp(c->method, "DELETE") != 0) {
			SET(CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)c->body.len);
			SET(CURLOPT_POSTFIELDS, buf_str(&c->body));
		}
	}
#undef SET
	return e == CURLE_OK ? 0 : -1;
}

static json_object *response_result(struct xfer *x, long status, int *rc)
{
	json_object *o = json_object_new_object();
	char msg[64];

	if (status >= 200 && status < 300) {
		*rc = 0;
	} else {
		*rc = 1;
		snprintf(msg, sizeof(msg),
			 "Request failed with status code %ld", status);
		json_object_object_add(o, "message",
				       json_object_new_string(msg));
		json_object_object_add(
			o, "code",
			json_object_new_string(status / 100 == 4
						       ? "ERR_BAD_REQUEST"
						       : "ERR_BAD_RESPONSE"));
	}
	json_object_object_add(o, "status", json_object_new_int64(status));
	json_object_object_add(o, "statusText",
			       json_object_new_string(buf_str(&x->status_text)));
	json_object_object_add(o, "headers", x->headers);
	x->headers = NULL;
	json_object_object_add(o, "data", body_value(buf_str(&x->body),
						     x->body.len));
	return o;
}

int wf_http_perform(const struct wf_http_req *r, json_object **result)
{
	struct call c = {.r = r};
	struct xfer x = {0};
	CURL *h = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	long timeout = r->timeout_ms > 0 ? r->timeout_ms
					 : WF_HTTP_DEFAULT_TIMEOUT_MS;
	long status = 0, oserr = 0;
	CURLcode cc;
	int rc = -1;

	*result = NULL;
	c.ctype = r->content_type && *r->content_type ? r->content_type
						      : "application/json";
	if (wf_http_global_init() != 0 || !(h = curl_easy_init())) {
		*result = error_result("HTTP client unavailable",
				       "ERR_NETWORK");
		goto out;
	}
	if (set_method(&c) != 0 || build_url(&c) != 0 ||
	    build_headers(&c) != 0 || build_body(&c, h) != 0)
		goto refused;
	x.headers = json_object_new_object();
	if (set_options(&c, h, &x, errbuf, timeout) != 0) {
		*result = error_result("HTTP client option refused",
				       "ERR_NETWORK");
		goto out;
	}

	cc = curl_easy_perform(h);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		*result = response_result(&x, status, &rc);
		goto out;
	}
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(errbuf, sizeof(errbuf), "timeout of %ldms exceeded",
			 timeout);
		*result = error_result(errbuf, "ECONNABORTED");
		rc = WF_HTTP_TIMEOUT;
	} else if (x.body_too_large || cc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(errbuf, sizeof(errbuf),
			 "maxContentLength size of %ld exceeded",
			 WF_HTTP_MAX_BODY);
		*result = error_result(errbuf, "ERR_BAD_RESPONSE");
	} else if (x.headers_too_large) {
		*result = error_result("Parse Error: Header overflow",
				       "HPE_HEADER_OVERFLOW");
	} else if (x.bad_header_name) {
		*result = error_result("Parse Error: Invalid header token",
				       "HPE_INVALID_HEADER_TOKEN");
	} else {
		curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
		*result = error_result(*errbuf ? errbuf
					       : curl_easy_strerror(cc),
				       curl_code_name(cc, oserr));
	}
	goto out;
refused:
	*result = c.err;
	c.err = NULL;
out:
	curl_easy_cleanup(h);
	curl_mime_free(c.mime);
	curl_slist_free_all(c.headers);
	buf_free(&c.url);
	buf_free(&c.body);
	json_object_put(c.err);
	json_object_put(x.headers);
	buf_free(&x.body);
	buf_free(&x.status_text);
	return rc;
}
