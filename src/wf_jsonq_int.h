/*
 * wf_jsonq_int: shared by wf_jsonq.c (lexer, parser), wf_jsonq_eval.c
 * (interpreter) and wf_jsonq_fn.c (functions).  Not for other modules.
 */
#ifndef FLOWCGI_WF_JSONQ_INT_H
#define FLOWCGI_WF_JSONQ_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

enum jq_kind {
	JN_FIELD,      /* name */
	JN_CURRENT,    /* @ */
	JN_LITERAL,    /* v */
	JN_SUB,        /* a then b on its result (a.b, a[0]) */
	JN_INDEX,      /* [num] */
	JN_SLICE,      /* [s:e:st], has[] flags */
	JN_PROJECT,    /* a, then b on each element of an array */
	JN_VPROJECT,   /* a, then b on each value of an object */
	JN_FLATTEN,    /* a, one level flattened */
	JN_FILTER,     /* a, then b on elements where c is true */
	JN_PIPE,
	JN_OR,
	JN_AND,
	JN_NOT,
	JN_CMP,        /* op a b */
	JN_LIST,       /* [args] */
	JN_HASH,       /* {args}: JN_KEYVAL children */
	JN_KEYVAL,     /* name: a */
	JN_FUNC,       /* fn(args) */
	JN_EXPREF,     /* &a */
};

enum jq_cmp { JC_EQ, JC_NE, JC_LT, JC_LE, JC_GT, JC_GE };

struct jq_fn;

struct jq_node {
	unsigned char kind, op;
	bool has[3];
	int a, b, c;
	int args, next, nargs;
	int height;
	long long num[3];
	char *name;
	json_object *v;
	const struct jq_fn *fn;
};

struct jq {
	struct jq_node *nodes;
	long steps;
	char *err;
	size_t errlen;
};

struct jq_fn {
	const char *name;
	int min, max; /* max -1: variadic */
	/* argv holds the evaluated arguments; an &expr argument is NULL in
	 * argv and its node index in refs (else -1). */
	int (*call)(struct jq *q, const struct jq_fn *f, json_object **argv,
		    const int *refs, int argc, json_object **out);
};

/* wf_jsonq_eval.c */
int jq_visit(struct jq *q, int n, json_object *v, json_object **out);
int jq_err(struct jq *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int jq_step(struct jq *q, long n);
bool jq_truthy(json_object *v);
bool jq_equal(json_object *a, json_object *b, int depth);
bool jq_is_num(json_object *v);
double jq_num(json_object *v);
const char *jq_type(json_object *v);

/* wf_jsonq_fn.c */
const struct jq_fn *jq_fn_find(const char *name);

#endif
