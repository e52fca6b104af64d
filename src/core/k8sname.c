/* k8sname.c: Kubernetes name syntax and the session ServiceAccount name (see sa_k8sname.h).
 * The API server checks these names byte by byte, in ASCII; so do these. */
#include "sa_k8sname.h"

#include <ctype.h>
#include <string.h>

int sa_k8sname_subdomain(const char *s, size_t len)
{
    if (len == 0 || len > SA_K8SNAME_SUBDOMAIN_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        int edge = i == 0 || i == len - 1 || s[i - 1] == '.' || s[i + 1] == '.';
        if (alnum)
            continue;
        if ((c != '-' && c != '.') || edge)
            return 0;
    }
    return 1;
}

int sa_k8sname_qualified(const char *s)
{
    const char *name = strchr(s, '/');
    if (name) {
        if (!sa_k8sname_subdomain(s, (size_t)(name - s)))
            return 0;
        name++;
    } else {
        name = s;
    }
    size_t len = strlen(name);
    if (len == 0 || len > SA_K8SNAME_QUALIFIED_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (isalnum(c))
            continue;
        if ((c != '-' && c != '_' && c != '.') || i == 0 || i == len - 1)
            return 0;
    }
    return 1;
}

int sa_k8sname_c_identifier(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_')
        return 0;
    for (s++; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return 0;
    return 1;
}

int sa_k8sname_session_sa(const char *tmpl, int max, const char *id, sa_buf *out)
{
    const char *at = strstr(tmpl, SA_K8SNAME_ID_PLACEHOLDER);
    size_t start = out->len, idlen = strlen(id);
    if (!at || !*id)
        return -1;
    if (idlen > (size_t)max)
        idlen = (size_t)max;
    sa_buf_append(out, tmpl, (size_t)(at - tmpl));
    char *dst = sa_buf_extend(out, idlen);
    if (!dst)
        return -1;
    for (size_t i = 0; i < idlen; i++)
        dst[i] = (char)tolower((unsigned char)id[i]);
    sa_buf_puts(out, at + strlen(SA_K8SNAME_ID_PLACEHOLDER));
    if (out->oom)
        return -1;
    return sa_k8sname_subdomain(out->data + start, out->len - start) ? 0 : -1;
}
