/* wf_expr: see wf_expr.h.  This file holds the entry point, the lexer and
 * the parser shared by the math.js and formula.js engines; operators are
 * in wf_expr_eval.c, functions in wf_expr_fn.c. */
#include "wf_expr.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "jsonx.h"
#include "util.h"
#include "wf_expr_int.h"
#include "wf_template.h"

/* An AST this tall is refused even when no single construct nests deeply
 * (1+1+...+1): evaluation recurses once per level. */
#define XMAX_HEIGHT (8 * WF_EXPR_MAX_DEPTH)

enum tt {
	T_END, T_NUM, T_STR, T_IDENT, T_VAR, T_OP,
	T_LP, T_RP, T_LB, T_RB, T_COMMA, T_QUEST, T_COLON, T_DOT,
};

struct tok {
	enum tt t;
	int op;
	size_t pos, len;
	json_object *v; /* T_NUM, T_STR, T_VAR: owned until taken */
};

struct var {
	char *path;
	json_object *v;
};

struct parser {
	enum xengine engine;
	const char *s;
	size_t len, i;
	struct tok tok;
	struct xnode *nodes;
	int nnodes, cap;
	struct var *vars;
	int nvars;
	wf_resolve_fn resolve;
	void *rctx;
	int depth;
	char *err;
	size_t errlen;
};

static int perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- lexer ------------------------------------------------------------ */

struct oplex {
	const char *s;
	int op;
};

/* Longest first. */
static const struct oplex math_ops[] = {
	{"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE},
	{"+", OP_ADD}, {"-", OP_SUB}, {"*", OP_MUL}, {"/", OP_DIV},
	{"%", OP_MOD}, {"^", OP_POW}, {"<", OP_LT}, {">", OP_GT},
	{"!", OP_NOT}, {NULL, 0},
};

static const struct oplex formula_ops[] = {
	{"===", OP_SEQ}, {"!==", OP_SNE}, {"**", OP_POW}, {"&&", OP_AND},
	{"||", OP_OR}, {"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE},
	{">=", OP_GE}, {"<>", OP_NE}, {"+", OP_ADD}, {"-", OP_SUB},
	{"*", OP_MUL}, {"/", OP_DIV}, {"%", OP_MOD}, {"&", OP_CAT},
	{"=", OP_EQ}, {"<", OP_LT}, {">", OP_GT}, {"!", OP_NOT},
	{NULL, 0},
};

static const struct oplex math_words[] = {
	{"and", OP_AND}, {"or", OP_OR}, {"xor", OP_XOR}, {"not", OP_NOT},
	{"mod", OP_MOD}, {NULL, 0},
};

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == '$';
}

static bool is_ident(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void put_utf8(struct buf *b, unsigned cp)
{
	char o[4];
	if (cp < 0x80) {
		buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, o, 2);
	} else if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, o, 3);
	} else {
		o[0] = (char)(0xF0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[3] = (char)(0x80 | (cp & 0x3F));
		buf_append(b, o, 4);
	}
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		v <<= 4;
		if (is_digit(c))
			v |= (unsigned)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (unsigned)((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int lex_string(struct parser *p)
{
	char q = p->s[p->i];
	size_t i = p->i + 1;
	struct buf b = {0};
	unsigned cp, lo;

	while (i < p->len && p->s[i] != q) {
		char c = p->s[i];
		if (c != '\\') {
			buf_putc(&b, c);
			i++;
			continue;
		}
		if (i + 1 >= p->len)
			break;
		c = p->s[i + 1];
		i += 2;
		switch (c) {
		case 'n': buf_putc(&b, '\n'); break;
		case 't': buf_putc(&b, '\t'); break;
		case 'r': buf_putc(&b, '\r'); break;
		case 'b': buf_putc(&b, '\b'); break;
		case 'f': buf_putc(&b, '\f'); break;
		case 'v': buf_putc(&b, '\v'); break;
		case '0': buf_putc(&b, '\0'); break;
		case 'u':
			if (i + 4 > p->len || hex4(p->s + i, &cp))
				goto bad;
			i += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= p->len &&
			    p->s[i] == '\\' && p->s[i + 1] == 'u' &&
			    !hex4(p->s + i + 2, &lo) && lo >= 0xDC00 &&
			    lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				     (lo - 0xDC00);
				i += 6;
			}
			if (cp >= 0xD800 && cp < 0xE000)
				cp = 0xFFFD;
			put_utf8(&b, cp);
			break;
		default: buf_putc(&b, c);
		}
	}
	if (i >= p->len) {
		buf_free(&b);
		return p->engine == XE_MATH
			       ? perr(p, "End of string %c missing (char %zu)",
				      q, p->i + 1)
			       : perr(p, "Invalid or unexpected token (char %zu)",
				      p->i + 1);
	}
	p->tok.t = T_STR;
	p->tok.v = json_object_new_string_len(buf_str(&b), (int)b.len);
	p->tok.len = i + 1 - p->i;
	buf_free(&b);
	return 0;
bad:
	buf_free(&b);
	return perr(p, "Invalid escape sequence in string (char %zu)", i);
}

static int lex_number(struct parser *p)
{
	const char *s = p->s;
	size_t i = p->i, st = i;
	char tmp[400];

	while (i < p->len && is_digit(s[i]))
		i++;
	if (i < p->len && s[i] == '.') {
		i++;
		while (i < p->len && is_digit(s[i]))
			i++;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;
		if (j < p->len && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < p->len && is_digit(s[j])) {
			while (j < p->len && is_digit(s[j]))
				j++;
			i = j;
		} else {
			return perr(p, p->engine == XE_MATH
					       ? "Digit expected, got \"%c\" "
						 "(char %zu)"
					       : "Invalid or unexpected token "
						 "(%c, char %zu)",
				    j < p->len ? s[j] : ' ', j + 1);
		}
	}
	if (i - st >= sizeof(tmp))
		return perr(p, "Number too long (char %zu)", st + 1);
	memcpy(tmp, s + st, i - st);
	tmp[i - st] = 0;
	p->tok.t = T_NUM;
	p->tok.v = wf_expr_num(strtod(tmp, NULL));
	p->tok.len = i - st;
	return 0;
}

static int lex_var(struct parser *p)
{
	struct wf_placeholder ph;
	char path[WF_TEMPLATE_MAX_PATH + 1];

	if (!wf_template_scan(p->s, p->len, p->i, WF_PH_EXPR, &ph) ||
	    ph.start != p->i)
		return 1;
	if (ph.keylen > WF_TEMPLATE_MAX_PATH)
		return perr(p, "Variable path too long (char %zu)", p->i + 1);
	memcpy(path, p->s + ph.key, ph.keylen);
	path[ph.keylen] = 0;
	p->tok.t = T_VAR;
	p->tok.len = ph.end - ph.start;
	/* One resolution per distinct path, as NocoBase's keyMap. */
	for (int k = 0; k < p->nvars; k++) {
		if (strcmp(p->vars[k].path, path) == 0) {
			p->tok.v = jsonx_ref(p->vars[k].v);
			return 0;
		}
	}
	struct var *nv = util_xrealloc(p->vars,
				       sizeof(*nv) * (size_t)(p->nvars + 1));
	p->vars = nv;
	nv[p->nvars].path = util_xstrdup(path);
	nv[p->nvars].v = p->resolve ? p->resolve(p->rctx, path) : NULL;
	p->tok.v = jsonx_ref(nv[p->nvars].v);
	p->nvars++;
	return 0;
}

static int lex(struct parser *p)
{
	const char *s = p->s;
	const struct oplex *ops;

	json_object_put(p->tok.v);
	memset(&p->tok, 0, sizeof(p->tok));
	while (p->i < p->len && strchr(" \t\r\n\v\f", s[p->i]))
		p->i++;
	p->tok.pos = p->i;
	if (p->i >= p->len) {
		p->tok.t = T_END;
		return 0;
	}
	char c = s[p->i];
	int rc = 0;
	p->tok.len = 1;
	if (is_digit(c) || (c == '.' && p->i + 1 < p->len &&
			    is_digit(s[p->i + 1]))) {
		rc = lex_number(p);
	} else if (c == '"' || c == '\'') {
		rc = lex_string(p);
	} else if (c == '{' && (rc = lex_var(p)) <= 0) {
		/* placeholder (or error) */
	} else if (is_ident_start(c)) {
		size_t j = p->i;
		while (j < p->len && is_ident(s[j]))
			j++;
		p->tok.t = T_IDENT;
		p->tok.len = j - p->i;
		if (p->engine == XE_MATH) {
			for (ops = math_words; ops->s; ops++)
				if (strlen(ops->s) == p->tok.len &&
				    !memcmp(ops->s, s + p->i, p->tok.len)) {
					p->tok.t = T_OP;
					p->tok.op = ops->op;
				}
		}
	} else {
		static const char punct[] = "()[],?:.";
		static const enum tt ptt[] = {T_LP, T_RP, T_LB, T_RB,
					      T_COMMA, T_QUEST, T_COLON, T_DOT};
		const char *q = strchr(punct, c);
		if (q) {
			p->tok.t = ptt[q - punct];
		} else {
			ops = p->engine == XE_MATH ? math_ops : formula_ops;
			for (; ops->s; ops++) {
				size_t n = strlen(ops->s);
				if (p->i + n <= p->len &&
				    !memcmp(ops->s, s + p->i, n))
					break;
			}
			if (!ops->s)
				return p->engine == XE_MATH
					       ? perr(p, "Syntax error in part "
							 "\"%c\" (char %zu)",
						      c, p->i + 1)
					       : perr(p, "Invalid or unexpected "
							 "token '%c' (char %zu)",
						      c, p->i + 1);
			p->tok.t = T_OP;
			p->tok.op = ops->op;
			p->tok.len = strlen(ops->s);
		}
	}
	if (rc < 0)
		return -1;
	p->i += p->tok.len;
	return 0;
}

/* ---- parser ----------------------------------------------------------- */

static int node_new(struct parser *p, int kind, int op, size_t pos, int a,
		    int b, int c)
{
	int kids[3] = {a, b, c}, h = 0;

	for (int k = 0; k < 3; k++)
		if (kids[k] >= 0 && p->nodes[kids[k]].height > h)
			h = p->nodes[kids[k]].height;
	if (h + 1 > XMAX_HEIGHT)
		return perr(p, "Expression nested too deeply (more than %d "
			       "levels)", XMAX_HEIGHT);
	if (p->nnodes == p->cap) {
		int cap = p->cap ? p->cap * 2 : 32;
		struct xnode *n =
			util_xrealloc(p->nodes, sizeof(*n) * (size_t)cap);
		p->nodes = n;
		p->cap = cap;
	}
	struct xnode *x = &p->nodes[p->nnodes];
	memset(x, 0, sizeof(*x));
	x->kind = (unsigned char)kind;
	x->op = (unsigned char)op;
	x->pos = (int)pos;
	x->a = a;
	x->b = b;
	x->c = c;
	x->args = x->next = -1;
	x->height = h + 1;
	return p->nnodes++;
}

static const char *tok_text(struct parser *p, char *out, size_t n)
{
	size_t len = p->tok.len < n - 1 ? p->tok.len : n - 1;
	memcpy(out, p->s + p->tok.pos, len);
	out[len] = 0;
	return out;
}

/* A value was expected at the current token. */
static int unexpected(struct parser *p)
{
	char t[32];
	size_t at = p->tok.pos + 1;

	if (p->engine == XE_MATH)
		return p->tok.t == T_END
			       ? perr(p, "Unexpected end of expression (char %zu)",
				      at)
			       : perr(p, "Value expected (char %zu)", at);
	if (p->tok.t == T_END)
		return perr(p, "Unexpected end of input (char %zu)", at);
	if (p->tok.t == T_IDENT)
		return perr(p, "Unexpected identifier '%s' (char %zu)",
			    tok_text(p, t, sizeof(t)), at);
	if (p->tok.t == T_NUM)
		return perr(p, "Unexpected number (char %zu)", at);
	if (p->tok.t == T_STR || p->tok.t == T_VAR)
		return perr(p, "Unexpected string (char %zu)", at);
	return perr(p, "Unexpected token '%s' (char %zu)",
		    tok_text(p, t, sizeof(t)), at);
}

/* Something other than what follows a complete expression. */
static int trailing(struct parser *p)
{
	char t[32];
	size_t at = p->tok.pos + 1;

	if (p->engine == XE_FORMULA || p->tok.t == T_END)
		return unexpected(p);
	if (p->tok.t == T_OP || p->tok.t == T_RP || p->tok.t == T_RB ||
	    p->tok.t == T_COMMA || p->tok.t == T_COLON || p->tok.t == T_DOT ||
	    p->tok.t == T_LP || p->tok.t == T_LB || p->tok.t == T_QUEST)
		return perr(p, "Unexpected operator %s (char %zu)",
			    tok_text(p, t, sizeof(t)), at);
	return perr(p, "Unexpected \"%s\" (char %zu)",
		    tok_text(p, t, sizeof(t)), at);
}

static int expect(struct parser *p, enum tt t, const char *what)
{
	if (p->tok.t == t)
		return lex(p);
	if (p->engine == XE_MATH)
		return perr(p, "%s (char %zu)", what, p->tok.pos + 1);
	if (t == T_RP && p->tok.t != T_END)
		return perr(p, "missing ) after argument list (char %zu)",
			    p->tok.pos + 1);
	return unexpected(p);
}

static int enter(struct parser *p)
{
	if (++p->depth > WF_EXPR_MAX_DEPTH)
		return perr(p, "Expression nested too deeply (more than %d "
			       "levels)", WF_EXPR_MAX_DEPTH);
	return 0;
}

static int parse_expr(struct parser *p);

/* Comma-separated expressions up to `close`; links them into node n. */
static int parse_list(struct parser *p, int n, enum tt close,
		      const char *what)
{
	int last = -1, h = 0;

	if (p->tok.t != close) {
		for (;;) {
			int a = parse_expr(p);
			if (a < 0)
				return -1;
			if (last < 0)
				p->nodes[n].args = a;
			else
				p->nodes[last].next = a;
			last = a;
			p->nodes[n].nargs++;
			if (p->nodes[a].height > h)
				h = p->nodes[a].height;
			if (p->tok.t != T_COMMA)
				break;
			if (lex(p))
				return -1;
		}
	}
	if (h + 1 > XMAX_HEIGHT)
		return perr(p, "Expression nested too deeply (more than %d "
			       "levels)", XMAX_HEIGHT);
	p->nodes[n].height = h + 1;
	return expect(p, close, what);
}

static int parse_primary(struct parser *p)
{
	size_t pos = p->tok.pos;
	int n;

	switch (p->tok.t) {
	case T_NUM:
	case T_STR:
	case T_VAR:
		n = node_new(p, N_CONST, 0, pos, -1, -1, -1);
		if (n < 0)
			return -1;
		p->nodes[n].v = p->tok.v;
		p->tok.v = NULL;
		return lex(p) ? -1 : n;
	case T_IDENT:
		n = node_new(p, N_SYM, 0, pos, -1, -1, -1);
		if (n < 0)
			return -1;
		p->nodes[n].name = util_xstrndup(p->s + pos, p->tok.len);
		return lex(p) ? -1 : n;
	case T_LP:
		if (lex(p) || (n = parse_expr(p)) < 0 ||
		    expect(p, T_RP, "Parenthesis ) expected"))
			return -1;
		return n;
	case T_LB:
		n = node_new(p, N_ARRAY, 0, pos, -1, -1, -1);
		if (n < 0 || lex(p) ||
		    parse_list(p, n, T_RB, "End of matrix ] expected"))
			return -1;
		return n;
	case T_OP:
		/* math.js word operators are also functions: mod(7, 3). */
		if (is_ident_start(p->s[pos]) && p->tok.op != OP_NOT) {
			p->tok.t = T_IDENT;
			return parse_primary(p);
		}
		return unexpected(p);
	default:
		return unexpected(p);
	}
}

static int parse_postfix(struct parser *p)
{
	int n = parse_primary(p), m;
	size_t pos;

	while (n >= 0) {
		struct xnode *x = &p->nodes[n];
		pos = p->tok.pos;
		if (p->tok.t == T_LP && x->kind == N_SYM) {
			x->kind = N_CALL;
			if (lex(p) ||
			    parse_list(p, n, T_RP, "Parenthesis ) expected"))
				return -1;
		} else if (p->tok.t == T_DOT) {
			if (lex(p))
				return -1;
			if (p->tok.t != T_IDENT)
				return unexpected(p);
			char *name =
				util_xstrndup(p->s + p->tok.pos, p->tok.len);
			x = &p->nodes[n];
			if (p->engine == XE_FORMULA && x->kind == N_SYM &&
			    strcmp(x->name, "Math") == 0) {
				/* Math.round: one name for the function table. */
				char *full = util_xmalloc(strlen(name) + 6);
				sprintf(full, "Math.%s", name);
				free(x->name);
				free(name);
				x->name = full;
			} else {
				m = node_new(p, N_MEMBER, 0, pos, n, -1, -1);
				if (m < 0) {
					free(name);
					return -1;
				}
				p->nodes[m].name = name;
				n = m;
			}
			if (lex(p))
				return -1;
		} else if (p->tok.t == T_LB && p->engine == XE_FORMULA) {
			if (enter(p) || lex(p) || (m = parse_expr(p)) < 0 ||
			    expect(p, T_RB, "] expected"))
				return -1;
			p->depth--;
			n = node_new(p, N_INDEX, 0, pos, n, m, -1);
		} else if (p->tok.t == T_OP && p->tok.op == OP_NOT &&
			   p->engine == XE_MATH &&
			   p->s[p->tok.pos] == '!') {
			if (lex(p))
				return -1;
			n = node_new(p, N_UNARY, OP_FACT, pos, n, -1, -1);
		} else {
			break;
		}
	}
	return n;
}

/* math.js: postfix then ^ (right side parsed as unary, so 2^-1 works and
 * ^ is right associative). formula.js: ** likewise. */
static int parse_unary(struct parser *p, bool no_pow);

static int parse_pow(struct parser *p)
{
	int a = parse_postfix(p), b;
	size_t pos = p->tok.pos;

	if (a < 0 || p->tok.t != T_OP || p->tok.op != OP_POW)
		return a;
	if (enter(p) || lex(p) || (b = parse_unary(p, false)) < 0)
		return -1;
	p->depth--;
	return node_new(p, N_BINARY, OP_POW, pos, a, b, -1);
}

/* In JavaScript the operand of a prefix operator cannot hold a bare **
 * (-2 ** 2 is a SyntaxError); math.js binds ^ tighter (-2^2 = -4). */
static int parse_unary(struct parser *p, bool no_pow)
{
	size_t pos = p->tok.pos;
	bool js = p->engine == XE_FORMULA;
	int op, a;

	if (p->tok.t != T_OP || (p->tok.op != OP_SUB && p->tok.op != OP_ADD &&
				 p->tok.op != OP_NOT))
		return no_pow ? parse_postfix(p) : parse_pow(p);
	op = p->tok.op == OP_SUB ? OP_NEG : p->tok.op == OP_ADD ? OP_PLUS
								 : OP_NOT;
	if (enter(p) || lex(p) || (a = parse_unary(p, js)) < 0)
		return -1;
	p->depth--;
	if (js && p->tok.t == T_OP && p->tok.op == OP_POW)
		return perr(p, "Unary operator used immediately before "
			       "exponentiation expression (char %zu)",
			    p->tok.pos + 1);
	return node_new(p, N_UNARY, op, pos, a, -1, -1);
}

struct level {
	unsigned char ops[6];
	bool chain; /* math.js relational chain: a < b < c */
};

static const struct level math_levels[] = {
	{{OP_OR}, false},
	{{OP_XOR}, false},
	{{OP_AND}, false},
	{{OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE}, true},
	{{OP_ADD, OP_SUB}, false},
	{{OP_MUL, OP_DIV, OP_MOD}, false},
};

static const struct level formula_levels[] = {
	{{OP_OR}, false},
	{{OP_AND}, false},
	{{OP_EQ, OP_NE, OP_SEQ, OP_SNE}, false},
	{{OP_LT, OP_LE, OP_GT, OP_GE}, false},
	{{OP_CAT}, false},
	{{OP_ADD, OP_SUB}, false},
	{{OP_MUL, OP_DIV, OP_MOD}, false},
};

static int parse_binary(struct parser *p, size_t lvl)
{
	const struct level *L = p->engine == XE_MATH ? math_levels
						     : formula_levels;
	size_t nl = p->engine == XE_MATH
			    ? sizeof(math_levels) / sizeof(*math_levels)
			    : sizeof(formula_levels) / sizeof(*formula_levels);
	int left, right, last = -1, cmp;

	if (lvl == nl)
		return parse_unary(p, false);
	if ((left = parse_binary(p, lvl + 1)) < 0)
		return -1;
	while (p->tok.t == T_OP && p->tok.op &&
	       memchr(L[lvl].ops, p->tok.op, sizeof(L[lvl].ops))) {
		int op = p->tok.op;
		size_t pos = p->tok.pos;
		if (lex(p) || (right = parse_binary(p, lvl + 1)) < 0)
			return -1;
		if (L[lvl].chain && last >= 0) {
			/* a < b < c is (a < b) and (b < c), b shared. */
			cmp = node_new(p, N_BINARY, op, pos, last, right, -1);
			if (cmp < 0)
				return -1;
			left = node_new(p, N_BINARY, OP_AND, pos, left, cmp, -1);
		} else {
			left = node_new(p, N_BINARY, op, pos, left, right, -1);
		}
		if (left < 0)
			return -1;
		last = right;
	}
	return left;
}

static int parse_expr(struct parser *p)
{
	int c, a, b;
	size_t pos;

	if (enter(p) || (c = parse_binary(p, 0)) < 0)
		return -1;
	if (p->tok.t == T_QUEST) {
		pos = p->tok.pos;
		if (lex(p) || (a = parse_expr(p)) < 0 ||
		    expect(p, T_COLON, "False part of conditional expression "
				       "expected") ||
		    (b = parse_expr(p)) < 0)
			return -1;
		c = node_new(p, N_COND, 0, pos, c, a, b);
	}
	p->depth--;
	return c;
}

static void parser_free(struct parser *p)
{
	for (int k = 0; k < p->nnodes; k++) {
		free(p->nodes[k].name);
		json_object_put(p->nodes[k].v);
	}
	free(p->nodes);
	for (int k = 0; k < p->nvars; k++) {
		free(p->vars[k].path);
		json_object_put(p->vars[k].v);
	}
	free(p->vars);
	json_object_put(p->tok.v);
}

/* ---- results ---------------------------------------------------------- */

/* Numbers as NocoBase returns them: top-level numbers rounded to 9
 * decimals, NaN and Infinity null; containers deep-copied so the caller
 * owns them, their doubles re-made to print as JS prints them. */
static json_object *finish(json_object *v, int depth, bool top)
{
	json_object *r;

	switch (json_object_get_type(v)) {
	case json_type_double: {
		double d = json_object_get_double(v);
		if (!isfinite(d))
			return NULL;
		return jsonx_number(top ? wf_expr_round_mode(d, 9, 0) : d);
	}
	case json_type_array: {
		size_t n = json_object_array_length(v);
		if (depth > JSONX_MAX_DEPTH)
			return jsonx_copy(v);
		r = json_object_new_array_ext((int)n);
		for (size_t i = 0; i < n; i++)
			json_object_array_add(
				r, finish(json_object_array_get_idx(v, i),
					  depth + 1, false));
		return r;
	}
	case json_type_object:
		if (depth > JSONX_MAX_DEPTH)
			return jsonx_copy(v);
		r = json_object_new_object();
		json_object_object_foreach(v, k, val)
			json_object_object_add(r, k, finish(val, depth + 1,
							    false));
		return r;
	default:
		return jsonx_ref(v);
	}
}

/* The "string" engine: text with each variable's string value. */
static int eval_string(const char *s, size_t len, wf_resolve_fn resolve,
		       void *ctx, json_object **out, char *err, size_t errlen)
{
	struct wf_placeholder ph;
	struct buf b = {0};
	size_t at = 0;

	while (wf_template_scan(s, len, at, WF_PH_EXPR, &ph)) {
		buf_append(&b, s + at, ph.start - at);
		json_object *v = wf_template_value(s, &ph, resolve, ctx);
		if (!json_object_is_type(v, json_type_double) ||
		    isfinite(json_object_get_double(v))) {
			char *t = jsonx_to_js_string(v, true);
			buf_puts(&b, t);
			free(t);
		}
		json_object_put(v);
		at = ph.end;
		if (b.len > WF_EXPR_MAX_STR)
			break;
	}
	buf_append(&b, s + at, len - at);
	if (b.len > WF_EXPR_MAX_STR) {
		buf_free(&b);
		snprintf(err, errlen, "String result exceeds %u bytes",
			 WF_EXPR_MAX_STR);
		return -1;
	}
	*out = json_object_new_string_len(buf_str(&b), (int)b.len);
	buf_free(&b);
	return 0;
}

int wf_expr_eval(const char *engine, const char *expr, wf_resolve_fn resolve,
		 void *ctx, json_object **out, char *err, size_t errlen)
{
	struct parser p = {0};
	struct xeval e = {0};
	json_object *v = NULL;
	size_t len;
	int root, rc = -1;

	*out = NULL;
	if (errlen)
		err[0] = 0;
	if (!engine || !*engine || strcmp(engine, "math.js") == 0) {
		p.engine = XE_MATH;
	} else if (strcmp(engine, "formula.js") == 0) {
		p.engine = XE_FORMULA;
	} else if (strcmp(engine, "string") != 0) {
		snprintf(err, errlen, "Unknown engine \"%.64s\"", engine);
		return -1;
	}
	if (!expr)
		return 0;
	while (*expr && strchr(" \t\r\n\v\f", *expr))
		expr++;
	len = strlen(expr);
	while (len && strchr(" \t\r\n\v\f", expr[len - 1]))
		len--;
	if (len > WF_EXPR_MAX_LEN) {
		snprintf(err, errlen, "Expression too long (%zu bytes, at most "
				      "%d)", len, WF_EXPR_MAX_LEN);
		return -1;
	}
	if (len == 0)
		return 0;
	if (engine && strcmp(engine, "string") == 0)
		return eval_string(expr, len, resolve, ctx, out, err, errlen);

	p.s = expr;
	p.len = len;
	p.resolve = resolve;
	p.rctx = ctx;
	p.err = err;
	p.errlen = errlen;
	if (lex(&p) || (root = parse_expr(&p)) < 0)
		goto out;
	if (p.tok.t != T_END) {
		trailing(&p);
		goto out;
	}
	e.engine = p.engine;
	e.nodes = p.nodes;
	e.err = err;
	e.errlen = errlen;
	if (xeval_node(&e, root, &v))
		goto out;
	*out = finish(v, 0, true);
	rc = 0;
out:
	json_object_put(v);
	parser_free(&p);
	return rc;
}
