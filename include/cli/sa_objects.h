/* sa_objects.h: the manifest reader behind `scan` and `test`: the bytes of one file in, the
 * Kubernetes objects it holds out, as cJSON trees.
 *
 * A file is JSON (one value) or YAML (any number of documents, `---` separated), each document
 * one object or a List (`kind: List` as kubectl prints it, or a typed list such as PodList as the
 * API returns it), whose items are the objects. YAML is turned into JSON the way kubectl's
 * sigs.k8s.io/yaml does (go-yaml v2 resolution, YAML 1.1): a quoted or block scalar is a string;
 * a plain one is null (~, null, empty), a boolean (true/false, yes/no, on/off, y/n in their
 * three spellings), an integer (decimal, 0x, 0o, 0b, a leading 0 is octal, '_' ignored), a float,
 * or else a string; a !!binary scalar is its base64 decoded, as go-yaml decodes it. The YAML is
 * read by the one YAML reader (sa_yaml.h, manifest mode), which expands aliases within a bound of
 * nodes and bytes and bounds the nesting; merge keys (<<) are refused rather than half-applied.
 * Duplicate keys are refused, as the strict JSON reader refuses them: two readers could each take
 * a different value.
 *
 * Pure: bytes in, trees out; no files, no output. Errors are one line naming the file and the
 * document, with the YAML reader's line and column (in characters). */
#ifndef SA_OBJECTS_H
#define SA_OBJECTS_H

#include <stddef.h>

#include <cjson/cJSON.h>

typedef struct sa_object {
    const cJSON *obj; /* a JSON object with string apiVersion and kind; points into docs */
    unsigned doc;     /* 1-based document number in its file */
    long item;        /* index in its List's items, or -1 when the document is the object */
} sa_object;

typedef struct sa_objects {
    sa_object *items;
    size_t count, cap;
    cJSON **docs; /* the parsed documents, owned */
    size_t ndocs, capdocs;
} sa_objects;

#define SA_OBJECTS_INIT        \
    {                          \
        NULL, 0, 0, NULL, 0, 0 \
    }

/* Appends every object in text to s. name is the file's name for messages. Empty documents (a
 * lone `---`, a comment) are skipped, as kubectl skips them. Returns 0, or -1 with one line in
 * err, "NAME: document N: reason" (objects appended before the error stay in s). */
int sa_objects_read(sa_objects *s, const char *name, const char *text, size_t len, char *err,
                    size_t errlen);
void sa_objects_free(sa_objects *s);

/* "group" and "version" of an apiVersion ("rbac.authorization.k8s.io/v1", or "v1" for the core
 * group, whose group is ""), written into the caller's buffers. */
void sa_objects_group_version(const char *api_version, char *group, size_t gcap, char *version,
                              size_t vcap);

#endif
