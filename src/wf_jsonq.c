/* wf_jsonq: see wf_jsonq.h.  A top-down operator precedence parser with
 * the binding powers of the JMESPath reference implementation, and a tree
 * interpreter in wf_jsonq_eval.c; functions are in wf_jsonq_fn.c. */
#include "wf_jsonq.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"
#include "util.h"
#include "wf_jsonq_int.h"

/* Evaluation recurses once per tree level: a.b.c... is refused past this
 * height even though parsing it does not nest. */
#define JQ_MAX_HEIGHT (8 * WF_JSONQ_MAX_DEPTH)

enum jt {
	J_EOF, J_UNQUOTED, J_QUOTED, J_LITERAL, J_NUMBER, J_DOT, J_STAR,
	J_LBRACKET, J_RBRACKET, J_FILTER, J_FLATTEN, J_LBRACE, J_RBRACE,
	J_LPAREN, J_RPAREN, J_COMMA, J_COLON, J_PIPE, J_OR, J_AND, J_NOT,
	J_EQ, J_NE, J_LT, J_LTE, J_GT, J_GTE, J_CURRENT, J_EXPREF,
};

/* Binding powers, as in the reference implementation. */
static const unsigned char bp[] = {
	[J_PIPE] = 1, [J_OR] = 2, [J_AND] = 3, [J_EQ] = 5, [J_NE] = 5,
	[J_LT] = 5, [J_LTE] = 5, [J_GT] = 5, [J_GTE] = 5, [J_FLATTEN] = 9,
	[J_STAR] = 20, [J_FILTER] = 21, [J_DOT] = 40, [J_NOT] = 45,
	[J_LBRACE] = 50, [J_LBRACKET] = 55, [J_LPAREN] = 60, [J_EXPREF] = 0,
};
#define PROJECTION_STOP 10

struct jtok {
	enum jt t;
	size_t pos;
	char *s;         /* identifiers */
	json_object *v;  /* literals */
	long long num;   /* numbers */
};

struct jp {
	const char *src;
	size_t len;
	struct jtok *toks;
	int ntok, cur;
	struct jq_node *nodes;
	int nnodes, cap;
	int depth;
	char *err;
	size_t errlen;
};

static int perr(struct jp *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int perr(struct jp *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- lexer ------------------------------------------------------------ */

static bool id_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool id_char(char c)
{
	return id_start(c) || (c >= '0' && c <= '9');
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static void tok_push(struct jp *p, struct jtok *t)
{
	struct jtok *n = util_xrealloc(p->toks,
				       sizeof(*n) * (size_t)(p->ntok + 1));
	p->toks = n;
	n[p->ntok++] = *t;
}

/* End of a delimited lexeme starting at i (the opening quote); the
 * closing quote's index, or 0 when unterminated. */
static size_t delimited(struct jp *p, size_t i, char q)
{
	for (size_t j = i + 1; j < p->len; j++) {
		if (p->src[j] == '\\' && j + 1 < p->len)
			j++;
		else if (p->src[j] == q)
			return j;
	}
	return 0;
}

/* Copy s[a..b) dropping the backslash of "\<q>". */
static char *unescape_quote(const char *s, size_t a, size_t b, char q)
{
	char *o = util_xmalloc(b - a + 1), *w = o;
	for (size_t i = a; i < b; i++) {
		if (s[i] == '\\' && i + 1 < b && s[i + 1] == q)
			i++;
		*w++ = s[i];
	}
	*w = 0;
	return o;
}

static int lex_quoted(struct jp *p, size_t i, struct jtok *t)
{
	size_t e = delimited(p, i, '"');
	json_object *v = NULL;
	char err[128];

	if (!e)
		return perr(p, "Syntax error at position %zu: unterminated "
			       "quoted identifier", i);
	if (jsonx_parse(p->src + i, e + 1 - i, 2, &v, err, sizeof(err)) ||
	    !json_object_is_type(v, json_type_string)) {
		json_object_put(v);
		return perr(p, "Syntax error at position %zu: invalid quoted "
			       "identifier", i);
	}
	t->t = J_QUOTED;
	t->s = util_xstrdup(json_object_get_string(v));
	json_object_put(v);
	return (int)(e + 1 - i);
}

static int lex_literal(struct jp *p, size_t i, struct jtok *t, char q)
{
	size_t e = delimited(p, i, q);
	char err[128];

	if (!e)
		return perr(p, "Syntax error at position %zu: unterminated %s",
			    i, q == '`' ? "JSON literal" : "raw string");
	char *s = unescape_quote(p->src, i + 1, e, q);
	t->t = J_LITERAL;
	if (q == '\'') {
		t->v = json_object_new_string(s);
	} else {
		const char *b = s;
		while (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r')
			b++;
		/* Not JSON: the deprecated `foo` form, a string. */
		if (jsonx_parse(b, strlen(b), WF_JSONQ_MAX_DEPTH, &t->v, err,
				sizeof(err)))
			t->v = json_object_new_string(b);
	}
	free(s);
	return (int)(e + 1 - i);
}

/* An integer at i (the length lexed, or -1). */
static int lex_number(struct jp *p, size_t i, struct jtok *t)
{
	const char *s = p->src;
	bool neg = s[i] == '-';
	long long v = 0;
	int n = neg;

	while (i + (size_t)n < p->len && digit(s[i + n])) {
		if (v > 100000000000000LL)
			return perr(p, "Syntax error at position %zu: number "
				       "too large", i);
		v = v * 10 + (s[i + n] - '0');
		n++;
	}
	t->t = J_NUMBER;
	t->num = neg ? -v : v;
	return n;
}

/* An operator or punctuation token at i (the length lexed, or -1). */
static int lex_punct(struct jp *p, size_t i, struct jtok *t)
{
	char c = p->src[i], d = i + 1 < p->len ? p->src[i + 1] : 0;

	switch (c) {
	case '.': t->t = J_DOT; return 1;
	case '*': t->t = J_STAR; return 1;
	case ']': t->t = J_RBRACKET; return 1;
	case ',': t->t = J_COMMA; return 1;
	case ':': t->t = J_COLON; return 1;
	case '@': t->t = J_CURRENT; return 1;
	case '(': t->t = J_LPAREN; return 1;
	case ')': t->t = J_RPAREN; return 1;
	case '{': t->t = J_LBRACE; return 1;
	case '}': t->t = J_RBRACE; return 1;
	case '[':
		t->t = d == ']' ? J_FLATTEN : d == '?' ? J_FILTER : J_LBRACKET;
		return t->t == J_LBRACKET ? 1 : 2;
	case '|': t->t = d == '|' ? J_OR : J_PIPE; break;
	case '&': t->t = d == '&' ? J_AND : J_EXPREF; break;
	case '!': t->t = d == '=' ? J_NE : J_NOT; break;
	case '<': t->t = d == '=' ? J_LTE : J_LT; break;
	case '>': t->t = d == '=' ? J_GTE : J_GT; break;
	case '=':
		if (d != '=')
			return perr(p, "Syntax error at position %zu: unknown "
				       "token '=' (use ==)", i);
		t->t = J_EQ;
		break;
	default:
		return perr(p, "Syntax error at position %zu: unknown token "
			       "'%c'", i, c);
	}
	return t->t == J_OR || t->t == J_AND || t->t == J_NE ||
			       t->t == J_LTE || t->t == J_GTE || t->t == J_EQ
		       ? 2
		       : 1;
}

static int lex(struct jp *p)
{
	size_t i = 0;

	while (i < p->len) {
		const char *s = p->src;
		char c = s[i], d = i + 1 < p->len ? s[i + 1] : 0;
		struct jtok t = {J_EOF, i, NULL, NULL, 0};
		int n = 1;

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			i++;
			continue;
		}
		if (id_start(c)) {
			while (i + (size_t)n < p->len && id_char(s[i + n]))
				n++;
			t.t = J_UNQUOTED;
			t.s = util_xstrndup(s + i, (size_t)n);
		} else if (digit(c) || (c == '-' && digit(d))) {
			n = lex_number(p, i, &t);
		} else if (c == '"') {
			n = lex_quoted(p, i, &t);
		} else if (c == '\'' || c == '`') {
			n = lex_literal(p, i, &t, c);
		} else {
			n = lex_punct(p, i, &t);
		}
		if (n < 0)
			return -1;
		tok_push(p, &t);
		i += (size_t)n;
	}
	struct jtok eof = {J_EOF, p->len, NULL, NULL, 0};
	tok_push(p, &eof);
	return 0;
}

/* ---- parser ----------------------------------------------------------- */

static enum jt cur(struct jp *p)
{
	return p->toks[p->cur].t;
}

static enum jt peek(struct jp *p, int k)
{
	int i = p->cur + k;
	return i < p->ntok ? p->toks[i].t : J_EOF;
}

static int unexpected(struct jp *p)
{
	const struct jtok *t = &p->toks[p->cur];
	if (t->t == J_EOF)
		return perr(p, "Syntax error at position %zu: unexpected end "
			       "of expression", t->pos);
	if (t->t == J_UNQUOTED || t->t == J_QUOTED)
		return perr(p, "Syntax error at position %zu: unexpected "
			       "identifier '%.64s'", t->pos, t->s);
	if (t->t == J_LITERAL || t->t == J_NUMBER)
		return perr(p, "Syntax error at position %zu: unexpected %s",
			    t->pos, t->t == J_NUMBER ? "number" : "literal");
	return perr(p, "Syntax error at position %zu: unexpected '%c'",
		    t->pos, p->src[t->pos]);
}

static int match(struct jp *p, enum jt t)
{
	if (cur(p) != t)
		return unexpected(p);
	p->cur++;
	return 0;
}

static int node(struct jp *p, int kind, int a, int b, int c)
{
	int kids[3] = {a, b, c}, h = 0;

	for (int k = 0; k < 3; k++)
		if (kids[k] >= 0 && p->nodes[kids[k]].height > h)
			h = p->nodes[kids[k]].height;
	if (h + 1 > JQ_MAX_HEIGHT)
		return perr(p, "Expression nested too deeply (more than %d "
			       "levels)", JQ_MAX_HEIGHT);
	if (p->nnodes == p->cap) {
		int cap = p->cap ? p->cap * 2 : 32;
		struct jq_node *n =
			util_xrealloc(p->nodes, sizeof(*n) * (size_t)cap);
		p->nodes = n;
		p->cap = cap;
	}
	struct jq_node *x = &p->nodes[p->nnodes];
	memset(x, 0, sizeof(*x));
	x->kind = (unsigned char)kind;
	x->a = a;
	x->b = b;
	x->c = c;
	x->args = x->next = -1;
	x->height = h + 1;
	return p->nnodes++;
}

static int identity(struct jp *p)
{
	return node(p, JN_CURRENT, -1, -1, -1);
}

/* Append child to list node n. */
static int append(struct jp *p, int n, int child, int *last)
{
	if (*last < 0)
		p->nodes[n].args = child;
	else
		p->nodes[*last].next = child;
	*last = child;
	p->nodes[n].nargs++;
	if (p->nodes[child].height + 1 > JQ_MAX_HEIGHT)
		return perr(p, "Expression nested too deeply (more than %d "
			       "levels)", JQ_MAX_HEIGHT);
	if (p->nodes[child].height + 1 > p->nodes[n].height)
		p->nodes[n].height = p->nodes[child].height + 1;
	return 0;
}

static int expression(struct jp *p, int rbp);

static int multi_list(struct jp *p)
{
	int n = node(p, JN_LIST, -1, -1, -1), last = -1, e;

	if (n < 0)
		return -1;
	for (;;) {
		if ((e = expression(p, 0)) < 0 || append(p, n, e, &last))
			return -1;
		if (cur(p) == J_RBRACKET)
			break;
		if (match(p, J_COMMA))
			return -1;
	}
	return match(p, J_RBRACKET) ? -1 : n;
}

static int multi_hash(struct jp *p)
{
	int n = node(p, JN_HASH, -1, -1, -1), last = -1, kv, e;

	if (n < 0)
		return -1;
	for (;;) {
		struct jtok *key = &p->toks[p->cur];
		if (key->t != J_UNQUOTED && key->t != J_QUOTED)
			return unexpected(p);
		p->cur++;
		if (match(p, J_COLON) || (e = expression(p, 0)) < 0 ||
		    (kv = node(p, JN_KEYVAL, e, -1, -1)) < 0)
			return -1;
		p->nodes[kv].name = util_xstrdup(key->s);
		if (append(p, n, kv, &last))
			return -1;
		if (cur(p) == J_RBRACE)
			break;
		if (match(p, J_COMMA))
			return -1;
	}
	return match(p, J_RBRACE) ? -1 : n;
}

static int dot_rhs(struct jp *p, int rbp)
{
	switch (cur(p)) {
	case J_UNQUOTED:
	case J_QUOTED:
	case J_STAR:
		return expression(p, rbp);
	case J_LBRACKET:
		p->cur++;
		return multi_list(p);
	case J_LBRACE:
		p->cur++;
		return multi_hash(p);
	default:
		return unexpected(p);
	}
}

static int projection_rhs(struct jp *p, int rbp)
{
	if (bp[cur(p)] < PROJECTION_STOP)
		return identity(p);
	if (cur(p) == J_LBRACKET || cur(p) == J_FILTER)
		return expression(p, rbp);
	if (cur(p) == J_DOT) {
		p->cur++;
		return dot_rhs(p, rbp);
	}
	return unexpected(p);
}

/* After "[": an index or a slice. */
static int index_expr(struct jp *p)
{
	int n;

	if (cur(p) != J_COLON && peek(p, 1) != J_COLON) {
		if ((n = node(p, JN_INDEX, -1, -1, -1)) < 0)
			return -1;
		p->nodes[n].num[0] = p->toks[p->cur].num;
		p->cur++;
		return match(p, J_RBRACKET) ? -1 : n;
	}
	if ((n = node(p, JN_SLICE, -1, -1, -1)) < 0)
		return -1;
	int part = 0;
	while (cur(p) != J_RBRACKET) {
		if (cur(p) == J_COLON) {
			if (++part == 3)
				return unexpected(p);
		} else if (cur(p) == J_NUMBER) {
			p->nodes[n].num[part] = p->toks[p->cur].num;
			p->nodes[n].has[part] = true;
		} else {
			return unexpected(p);
		}
		p->cur++;
	}
	return match(p, J_RBRACKET) ? -1 : n;
}

/* left[index] or left[slice]; a slice projects what follows. */
static int project_if_slice(struct jp *p, int left, int right)
{
	int idx = node(p, JN_SUB, left, right, -1), rhs;
	if (idx < 0 || p->nodes[right].kind != JN_SLICE)
		return idx;
	if ((rhs = projection_rhs(p, bp[J_STAR])) < 0)
		return -1;
	return node(p, JN_PROJECT, idx, rhs, -1);
}

static int led_filter(struct jp *p, int left)
{
	int cond, right;

	if ((cond = expression(p, 0)) < 0 || match(p, J_RBRACKET))
		return -1;
	right = cur(p) == J_FLATTEN ? identity(p)
				    : projection_rhs(p, bp[J_FILTER]);
	if (right < 0)
		return -1;
	return node(p, JN_FILTER, left, right, cond);
}

static int nud(struct jp *p, struct jtok *t)
{
	int n, l, r;

	switch (t->t) {
	case J_LITERAL:
		if ((n = node(p, JN_LITERAL, -1, -1, -1)) < 0)
			return -1;
		p->nodes[n].v = t->v;
		t->v = NULL;
		return n;
	case J_UNQUOTED:
	case J_QUOTED:
		if (t->t == J_QUOTED && cur(p) == J_LPAREN)
			return perr(p, "Syntax error at position %zu: quoted "
				       "identifier not allowed for function "
				       "names", t->pos);
		if ((n = node(p, JN_FIELD, -1, -1, -1)) < 0)
			return -1;
		p->nodes[n].name = t->s;
		t->s = NULL;
		return n;
	case J_STAR:
		if ((l = identity(p)) < 0)
			return -1;
		r = cur(p) == J_RBRACKET ? identity(p)
					 : projection_rhs(p, bp[J_STAR]);
		return r < 0 ? -1 : node(p, JN_VPROJECT, l, r, -1);
	case J_FILTER:
		return (l = identity(p)) < 0 ? -1 : led_filter(p, l);
	case J_LBRACE:
		return multi_hash(p);
	case J_LPAREN:
		if ((n = expression(p, 0)) < 0 || match(p, J_RPAREN))
			return -1;
		return n;
	case J_FLATTEN:
		if ((l = identity(p)) < 0 ||
		    (l = node(p, JN_FLATTEN, l, -1, -1)) < 0 ||
		    (r = projection_rhs(p, bp[J_FLATTEN])) < 0)
			return -1;
		return node(p, JN_PROJECT, l, r, -1);
	case J_NOT:
		if ((n = expression(p, bp[J_NOT])) < 0)
			return -1;
		return node(p, JN_NOT, n, -1, -1);
	case J_LBRACKET:
		if (cur(p) == J_NUMBER || cur(p) == J_COLON) {
			if ((l = identity(p)) < 0 || (r = index_expr(p)) < 0)
				return -1;
			return project_if_slice(p, l, r);
		}
		if (cur(p) == J_STAR && peek(p, 1) == J_RBRACKET) {
			p->cur += 2;
			if ((l = identity(p)) < 0 ||
			    (r = projection_rhs(p, bp[J_STAR])) < 0)
				return -1;
			return node(p, JN_PROJECT, l, r, -1);
		}
		return multi_list(p);
	case J_CURRENT:
		return identity(p);
	case J_EXPREF:
		if ((n = expression(p, bp[J_EXPREF])) < 0)
			return -1;
		return node(p, JN_EXPREF, n, -1, -1);
	default:
		if (t->t != J_EOF)
			p->cur--;
		return unexpected(p);
	}
}

static int led_call(struct jp *p, int left)
{
	struct jq_node *f = &p->nodes[left];
	int last = -1, e;

	if (f->kind != JN_FIELD)
		return perr(p, "Syntax error at position %zu: invalid function "
			       "name", p->toks[p->cur - 1].pos);
	f->kind = JN_FUNC;
	f->fn = jq_fn_find(f->name);
	if (!f->fn)
		return perr(p, "unknown-function: %s()", f->name);
	while (cur(p) != J_RPAREN) {
		if ((e = expression(p, 0)) < 0 || append(p, left, e, &last))
			return -1;
		if (cur(p) == J_COMMA)
			p->cur++;
		else if (cur(p) != J_RPAREN)
			return unexpected(p);
	}
	p->cur++;
	f = &p->nodes[left];
	if (f->nargs < f->fn->min || (f->fn->max >= 0 && f->nargs > f->fn->max))
		return perr(p, "invalid-arity: %s() takes %s%d argument%s, "
			       "%d given", f->name,
			    f->fn->max < 0 ? "at least " : "", f->fn->min,
			    f->fn->min == 1 ? "" : "s", f->nargs);
	return left;
}

static int led(struct jp *p, enum jt t, int left)
{
	int r, n;

	switch (t) {
	case J_DOT:
		if (cur(p) != J_STAR) {
			if ((r = dot_rhs(p, bp[J_DOT])) < 0)
				return -1;
			return node(p, JN_SUB, left, r, -1);
		}
		p->cur++;
		if ((r = projection_rhs(p, bp[J_DOT])) < 0)
			return -1;
		return node(p, JN_VPROJECT, left, r, -1);
	case J_PIPE:
	case J_OR:
	case J_AND:
		if ((r = expression(p, bp[t])) < 0)
			return -1;
		return node(p, t == J_PIPE ? JN_PIPE : t == J_OR ? JN_OR
								: JN_AND,
			    left, r, -1);
	case J_LPAREN:
		return led_call(p, left);
	case J_FILTER:
		return led_filter(p, left);
	case J_EQ:
	case J_NE:
	case J_LT:
	case J_LTE:
	case J_GT:
	case J_GTE:
		if ((r = expression(p, bp[t])) < 0 ||
		    (n = node(p, JN_CMP, left, r, -1)) < 0)
			return -1;
		p->nodes[n].op = t == J_EQ   ? JC_EQ
				 : t == J_NE  ? JC_NE
				 : t == J_LT  ? JC_LT
				 : t == J_LTE ? JC_LE
				 : t == J_GT  ? JC_GT
					      : JC_GE;
		return n;
	case J_FLATTEN:
		if ((left = node(p, JN_FLATTEN, left, -1, -1)) < 0 ||
		    (r = projection_rhs(p, bp[J_FLATTEN])) < 0)
			return -1;
		return node(p, JN_PROJECT, left, r, -1);
	case J_LBRACKET:
		if (cur(p) == J_NUMBER || cur(p) == J_COLON) {
			if ((r = index_expr(p)) < 0)
				return -1;
			return project_if_slice(p, left, r);
		}
		if (match(p, J_STAR) || match(p, J_RBRACKET) ||
		    (r = projection_rhs(p, bp[J_STAR])) < 0)
			return -1;
		return node(p, JN_PROJECT, left, r, -1);
	default:
		p->cur--;
		return unexpected(p);
	}
}

static int expression(struct jp *p, int rbp)
{
	int left;

	if (++p->depth > WF_JSONQ_MAX_DEPTH)
		return perr(p, "Expression nested too deeply (more than %d "
			       "levels)", WF_JSONQ_MAX_DEPTH);
	struct jtok *t = &p->toks[p->cur];
	if (t->t != J_EOF)
		p->cur++;
	if ((left = nud(p, t)) < 0)
		return -1;
	while (rbp < bp[cur(p)]) {
		enum jt lt = cur(p);
		p->cur++;
		if ((left = led(p, lt, left)) < 0)
			return -1;
	}
	p->depth--;
	return left;
}

int wf_jsonq_eval(json_object *source, const char *expr,
		  json_object **out, char *err, size_t errlen)
{
	struct jp p = {0};
	struct jq q = {0};
	int root, rc = -1;

	*out = NULL;
	if (errlen)
		err[0] = 0;
	p.src = expr ? expr : "";
	p.len = strlen(p.src);
	p.err = err;
	p.errlen = errlen;
	if (p.len > WF_JSONQ_MAX_LEN) {
		snprintf(err, errlen, "Expression too long (%zu bytes, at most "
				      "%d)", p.len, WF_JSONQ_MAX_LEN);
		return -1;
	}
	if (lex(&p))
		goto out;
	if (p.toks[0].t == J_EOF) {
		snprintf(err, errlen, "Empty expression");
		goto out;
	}
	if ((root = expression(&p, 0)) < 0)
		goto out;
	if (cur(&p) != J_EOF) {
		unexpected(&p);
		goto out;
	}
	q.nodes = p.nodes;
	q.err = err;
	q.errlen = errlen;
	rc = jq_visit(&q, root, source, out);
out:
	for (int i = 0; i < p.nnodes; i++) {
		free(p.nodes[i].name);
		json_object_put(p.nodes[i].v);
	}
	free(p.nodes);
	for (int i = 0; i < p.ntok; i++) {
		free(p.toks[i].s);
		json_object_put(p.toks[i].v);
	}
	free(p.toks);
	return rc;
}
