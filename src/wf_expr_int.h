/*
 * wf_expr_int: shared by the wf_expr files and no other module:
 * wf_expr.c (entry point, lexer, parser), wf_expr_eval.c (AST walk and
 * operators), wf_expr_math.c and wf_expr_formula.c (each engine's
 * functions), wf_expr_js.c (JavaScript coercions, rounding) and
 * wf_expr_logic.c (condition calculators).
 */
#ifndef FLOWCGI_WF_EXPR_INT_H
#define FLOWCGI_WF_EXPR_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

enum xengine { XE_MATH, XE_FORMULA };

enum xop {
	OP_NONE,
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_POW, OP_CAT,
	OP_EQ, OP_NE, OP_SEQ, OP_SNE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_AND, OP_OR, OP_XOR, OP_NOT, OP_NEG, OP_PLUS, OP_FACT,
};

enum xkind {
	N_CONST,  /* v */
	N_SYM,    /* name */
	N_UNARY,  /* op a */
	N_BINARY, /* a op b; OP_AND / OP_OR short-circuit */
	N_COND,   /* a ? b : c */
	N_CALL,   /* name(args) */
	N_ARRAY,  /* [args] */
	N_MEMBER, /* a.name */
	N_INDEX,  /* a[b] */
};

struct xnode {
	unsigned char kind, op;
	int pos;       /* byte offset in the expression, for messages */
	int a, b, c;   /* children, -1 when absent */
	int args;      /* first argument, chained through next */
	int next;
	int nargs;
	int height;
	char *name;
	json_object *v;
};

struct xeval {
	enum xengine engine;
	struct xnode *nodes;
	long steps;
	size_t work; /* bytes of operands and results, see wf_expr_work */
	char *err;
	size_t errlen;
};

/* A function: min/max arity (max -1 = variadic), the implementation and
 * an opcode so one implementation serves several names.  A lazy function
 * (IF) evaluates its own argument nodes. */
struct xfn;
typedef int (*xfn_call)(struct xeval *e, const struct xfn *f,
			json_object **argv, int argc, json_object **out);
typedef int (*xfn_lazy)(struct xeval *e, const struct xfn *f, int call,
			json_object **out);
struct xfn {
	const char *name;
	int min, max;
	xfn_call call;
	int op;
	xfn_lazy lazy;
};

/* A growable list of numbers (statistics functions). */
struct xnums {
	double *v;
	size_t n, cap;
};

/* wf_expr_eval.c */
int xeval_node(struct xeval *e, int n, json_object **out);
int wf_expr_err(struct xeval *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int wf_expr_step(struct xeval *e, long n);
/* Charge the size of a value an operator or function works on. */
int wf_expr_work(struct xeval *e, json_object *v);
json_object *wf_expr_num(double d);
json_object *wf_expr_bool(bool b);
bool xis_num(json_object *v);
double xget_num(json_object *v);
const char *xtype_name(json_object *v);
/* math.js number conversion: null 0, booleans, numeric strings; else an
 * error naming fname. */
int mj_number(struct xeval *e, const char *fname, json_object *v,
	      double *out);
/* math.js comparison: <0, 0, >0, or 2 when unordered (NaN). */
int mj_compare(struct xeval *e, const char *fname, json_object *a,
	       json_object *b, int *out);
int mj_equal(struct xeval *e, const char *fname, json_object *a,
	     json_object *b, bool *out);
int mj_truthy(struct xeval *e, const char *fname, json_object *v, bool *out);

void xnums_push(struct xnums *ns, double d);
/* Function and named constant (pi, true, Math.PI...) lookup per engine;
 * xconst_find returns false when the name is no constant. */
const struct xfn *xfn_find(enum xengine engine, const char *name);
bool xconst_find(enum xengine engine, const char *name, json_object **out);

/* wf_expr_math.c, wf_expr_formula.c */
const struct xfn *xmath_find(const char *name);
bool xmath_const(const char *name, json_object **out);
const struct xfn *xformula_find(const char *name);
bool xformula_const(const char *name, json_object **out);

/* wf_expr_js.c: JavaScript semantics over json-c values. */
enum js_cmp { JS_LT, JS_EQ, JS_GT, JS_UNORDERED };
double js_to_number(json_object *v);
/* JS String(v) (null -> "null"), malloc'd. */
char *js_to_string(json_object *v);
/* JS parseFloat on a C string: NaN when no number prefix. */
double js_parse_float(const char *s);
bool js_loose_eq(json_object *a, json_object *b);
bool js_strict_eq(json_object *a, json_object *b);
enum js_cmp js_compare(json_object *a, json_object *b);
/* JS + on two values; a new reference; -1 when the string would exceed
 * the limit. */
int js_add(json_object *a, json_object *b, json_object **out);
/* Round x to n decimals on its shortest decimal form; mode 0 half away
 * from zero, 1 away from zero (up), 2 toward zero (down). */
double wf_expr_round_mode(double x, int n, int mode);
/* memmem; short needles scan with memchr, which ASan checks only up to
 * the match (its memmem and strstr interceptors check the whole haystack
 * on every call, making loops quadratic under ASan). */
const char *wf_expr_find(const char *hay, size_t hlen, const char *needle,
			 size_t nlen);
size_t utf8_len(const char *s, size_t n);
size_t utf8_offset(const char *s, size_t n, size_t chars);

#endif
