/* sa_cel.h: writing CEL expressions (the Common Expression Language Kubernetes evaluates in
 * admission policies) from the policy's values: string literals, and a name set (sa_nameset.h) as
 * a test on a string expression.
 *
 * A nameset's globs are fnmatch(3) globs; CEL has only matches(), whose regexes are RE2's. A glob
 * is rewritten as an anchored regex that accepts the same names: '*' any run of characters ('/'
 * and ':' included, as fnmatch without flags), '?' one character, [...] a class, '\' escapes.
 * The regexes use only what RE2 and ECMAScript read alike (no (?s), no [:class:]), so an
 * independent evaluator reads them as the API server does. One difference stays: fnmatch in the
 * C locale takes '?' as one byte, RE2 as one UTF-8 character; Kubernetes names are ASCII. */
#ifndef SA_CEL_H
#define SA_CEL_H

#include "sa_buf.h"
#include "sa_nameset.h"

/* Appends s as a CEL double-quoted string literal. */
void sa_cel_string(sa_buf *out, const char *s);

/* Appends a CEL boolean expression: whether the string expression expr is in the set (an exact
 * entry, or a name a glob matches); "false" for an empty or NULL set. Returns 0, or -1 when a
 * glob uses a bracket form CEL's regexes cannot say ([:class:], [.sym.], [=equiv=]): why is
 * appended to err. expr is written more than once: pass a variable or a field path. */
int sa_cel_in_set(sa_buf *out, const sa_nameset *s, const char *expr, sa_buf *err);

/* The same for sa_nameset_match_prefix: whether some name that starts with the string expr is in
 * the set (an exact entry that starts with it, or a glob some completion of it matches). */
int sa_cel_prefix_in_set(sa_buf *out, const sa_nameset *s, const char *expr, sa_buf *err);

/* Appends the entries of s as a CEL list of string literals, sorted: ["a", "b"]. */
void sa_cel_list(sa_buf *out, const sa_nameset *s);

#endif
