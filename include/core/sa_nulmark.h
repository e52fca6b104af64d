/* sa_nulmark.h: where a NUL in a review matters.
 *
 * The API server sends NUL in strings it does not validate before admission (a TokenRequest's
 * audiences, any string of an object on /mutate), written by Go as \u0000; sa_json_parse reads it
 * as SA_BUF_NUL_MARK. In free text (an annotation's value, an env value, a container's args) a
 * NUL changes nothing the policy judges, so the review is judged as usual and any copy of the
 * string is written back as \u0000. Anywhere else (a key, a name, an audience, a subject, a
 * rule's resources, the user's name or groups) the string is one the policy compares or that a
 * later reader may cut at the NUL (an env name reaches execve as a C string), so it cannot be
 * judged, and the review is denied in every mode. */
#ifndef SA_NULMARK_H
#define SA_NULMARK_H

#include "sa_buf.h"
#include "sa_review.h"

/* Whether r's request holds a NUL outside free text; when it does, the first such place is
 * appended to where, as a path ("request.object.spec.audiences[0]"). r->marks 0: never. */
int sa_nulmark_find(const sa_review *r, sa_buf *where);

#endif
