/* map.c: the string-keyed hash table behind every policy table (see sa_map.h).
 *
 * Open addressing with linear probing; each slot keeps its key's hash so a probe compares
 * strings only on a full hash match. Keys come from policy files an attacker might shape, so
 * the hash is SipHash-1-3 keyed with a per-process random seed: nobody can precompute a set of
 * names that all collide. There is no removal: a map is built once at policy load, then only
 * read, so concurrent readers need no lock. */
#include "sa_map.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

typedef struct slot {
    char *key; /* owned; NULL marks an empty slot */
    size_t len;
    uint64_t hash;
    void *value;
} slot;

struct sa_map {
    slot *slots;
    size_t cap; /* a power of two, or 0 before the first put */
    size_t count;
};

static uint64_t seed[2];
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void seed_init(void)
{
    if (RAND_bytes((unsigned char *)seed, sizeof seed) != 1) {
        /* No entropy from OpenSSL: still differ per process, which is what defeats
         * precomputed collisions. */
        seed[0] = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15u;
        seed[1] = (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&seed;
    }
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND           \
    do {                   \
        v0 += v1;          \
        v1 = ROTL(v1, 13); \
        v1 ^= v0;          \
        v0 = ROTL(v0, 32); \
        v2 += v3;          \
        v3 = ROTL(v3, 16); \
        v3 ^= v2;          \
        v0 += v3;          \
        v3 = ROTL(v3, 21); \
        v3 ^= v0;          \
        v2 += v1;          \
        v1 = ROTL(v1, 17); \
        v1 ^= v2;          \
        v2 = ROTL(v2, 32); \
    } while (0)

/* SipHash-1-3 (one compression round, three finalization rounds). */
static uint64_t hash_bytes(const char *key, size_t len)
{
    const unsigned char *in = (const unsigned char *)key;
    uint64_t v0 = 0x736f6d6570736575u ^ seed[0], v1 = 0x646f72616e646f6du ^ seed[1];
    uint64_t v2 = 0x6c7967656e657261u ^ seed[0], v3 = 0x7465646279746573u ^ seed[1];
    uint64_t b = (uint64_t)len << 56;
    size_t whole = len - len % 8;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = 0;
        for (int k = 7; k >= 0; k--)
            m = (m << 8) | in[i + (size_t)k];
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t k = 0; k < len % 8; k++)
        b |= (uint64_t)in[whole + k] << (8 * k);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

sa_map *sa_map_new(void)
{
    pthread_once(&seed_once, seed_init);
    return calloc(1, sizeof(sa_map));
}

void sa_map_free(sa_map *m, void (*free_value)(void *))
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        free(m->slots[i].key);
        if (free_value)
            free_value(m->slots[i].value);
    }
    free(m->slots);
    free(m);
}

/* The slot holding key, or the empty slot where it would go. cap must be non-zero. */
static slot *find(const slot *slots, size_t cap, const char *key, size_t len, uint64_t h)
{
    size_t mask = cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const slot *s = &slots[i];
        if (!s->key || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
            return (slot *)s;
    }
}

static int grow(sa_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    if (cap < m->cap || cap > SIZE_MAX / sizeof(slot))
        return -1;
    slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            *find(slots, cap, m->slots[i].key, m->slots[i].len, m->slots[i].hash) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int sa_map_put(sa_map *m, const char *key, void *value)
{
    size_t len = strlen(key);
    uint64_t h = hash_bytes(key, len);
    if (m->cap && find(m->slots, m->cap, key, len, h)->key)
        return 1;
    /* Grow at 70% load: linear probing degrades quickly past that. */
    if ((m->count + 1) * 10 > m->cap * 7 && grow(m) < 0)
        return -1;
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, key, len + 1);
    *find(m->slots, m->cap, key, len, h) = (slot){copy, len, h, value};
    m->count++;
    return 0;
}

void *sa_map_getn(const sa_map *m, const char *key, size_t n)
{
    if (!m || !m->count)
        return NULL;
    return find(m->slots, m->cap, key, n, hash_bytes(key, n))->value;
}

void *sa_map_get(const sa_map *m, const char *key)
{
    return sa_map_getn(m, key, strlen(key));
}

size_t sa_map_count(const sa_map *m)
{
    return m ? m->count : 0;
}

int sa_map_any(const sa_map *m, int (*pred)(const char *key, void *ctx), void *ctx)
{
    for (size_t i = 0; m && i < m->cap; i++)
        if (m->slots[i].key && pred(m->slots[i].key, ctx))
            return 1;
    return 0;
}
