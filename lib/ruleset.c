/*
 * ruleset - domain rules in a trie of labels, root = TLD
 *
 * Interface in ruleset.h.  Layout, chosen for a million rules in little
 * memory and one cache miss a label:
 *
 *	The trie is one open-addressing hash table (linear probing) of
 *	32-octet nodes keyed by (parent node id, label); a node's id is its
 *	slot.  Labels up to NODE_INLINE octets live in the node, longer ones
 *	in an arena.  A node knows whether it has children, so a lookup stops
 *	at a leaf without probing for a child that cannot exist.  A side
 *	array of one-octet tags (seven bits of the hash) is probed first:
 *	it stays in cache, so a name that is not there costs no node read.
 *
 *	A node points at a "triple": the rules for "#name", "name" and
 *	".name".  Strings, rules and triples are interned: a million rules
 *	that say the same thing share one struct rule and one triple, and
 *	the per-rule cost is the node alone.
 *
 * When the table grows it is rebuilt: every node is re-inserted after its
 * parent, with a map from old ids to new ones.  Nothing is freed or moved
 * once loading is done, so lookups from many threads need no lock.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authfile.h"
#include "domain.h"
#include "rcptlist.h"
#include "ruleset.h"
#include "strutil.h"

#define NODE_INLINE	22
#define NODE_CHILDREN	0x01		/* flags: has children */
#define ROOT_ID		UINT32_MAX
#define NO_NODE		UINT32_MAX
#define LOAD_NUM	4		/* grow above 4/5 full */
#define LOAD_DEN	5

struct node {
	uint32_t	parent;		/* node id, ROOT_ID for a TLD */
	uint32_t	triple;		/* index + 1 in triples, 0: none */
	uint8_t		len;		/* label length; 0: free slot */
	uint8_t		flags;
	char		label[NODE_INLINE];	/* or arena offset */
};

struct triple {
	const struct rule *rule[3];	/* by enum rule_kind */
};

/* A small intern table: values with their hashes, open addressing. */
struct itab {
	uint64_t	*hash;
	uintptr_t	*val;		/* 0: free */
	size_t		 cap;
	size_t		 count;
};

struct ruleset {
	struct node	*nodes;
	uint8_t		*tags;		/* per slot: 0 free, else 0x80|hash */
	size_t		 cap;		/* slots */
	size_t		 used;		/* nodes */
	int		 root_children;
	char		*arena;		/* long labels */
	size_t		 arena_len;
	size_t		 arena_cap;
	struct triple	*triples;
	size_t		 ntriples;
	size_t		 triples_cap;
	struct itab	 strings;	/* char * */
	struct itab	 rules;		/* struct rule * */
	struct itab	 tripletab;	/* index + 1 in triples */
	size_t		 nrules;
	/* the last smart host text and its interned normal form */
	char		*memo_raw;
	const char	*memo_host;
	struct rcptlist	**lists;	/* recipients_file lists loaded */
	size_t		 nlists;
	char		*dir;		/* for relative recipients_file */
	struct authset	 auths;		/* auth_file credentials loaded */
	struct overlay	*over;		/* not NULL: a generation of overlay.h */
	const struct ruleset_generation *gen;	/* over's functions */
	atomic_uint	 refs;		/* holders besides the first */
};

/* The rule of a pattern that an overlay's delta removes. */
const struct rule rule_tombstone;

/* Hashing. */

static uint64_t
mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/*
 * The last n (1 to 8) octets before end as a little-endian word.  When
 * the 8 octets before end are readable (back_ok) one load and a shift do
 * it, which is what lets a lookup hash and compare short labels without
 * byte loops: a label inside a domain name has the name before it.
 */
static inline uint64_t
tail_word(const char *end, size_t n, int back_ok)
{
	uint64_t	w;
	size_t		i;

	if (back_ok) {
		memcpy(&w, end - 8, 8);
		return w >> (8 * (8 - n));
	}
	for (w = 0, i = 1; i <= n; i++)
		w = w << 8 | (unsigned char)end[-(ptrdiff_t)i];
	return w;
}

/* Hash of s[0..len); the octets from base on are readable. */
static inline uint64_t
bytes_hash_in(const char *s, size_t len, const char *base)
{
	const char	*end = s + len;
	uint64_t	 h, w;

	h = (uint64_t)len * 0x9e3779b97f4a7c15ULL;
	for (; (size_t)(end - s) >= 8; s += 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	if (s < end) {
		w = tail_word(end, (size_t)(end - s), end - base >= 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return h;
}

static inline uint64_t
bytes_hash(const char *s, size_t len)
{
	return bytes_hash_in(s, len, s);
}

/* The hash of (parent, label); its high half picks the slot, seven bits
 * of its low half make the slot's tag. */
static inline uint64_t
node_hash(uint64_t lhash, uint32_t parent)
{
	return (lhash ^ ((uint64_t)parent * 0x9e3779b97f4a7c15ULL)) *
	    0xd6e8feb86659fd93ULL;
}

static inline size_t
slot_of(uint64_t h, size_t cap)
{
	return (size_t)(((h >> 32) * (uint64_t)cap) >> 32);
}

static inline uint8_t
tag_of(uint64_t h)
{
	return (uint8_t)(0x80 | ((h >> 24) & 0x7f));
}

/* Intern tables. */

static int
itab_grow(struct itab *t)
{
	struct itab	n;
	size_t		i, j;

	n.cap = t->cap == 0 ? 64 : t->cap * 2;
	n.count = t->count;
	n.hash = calloc(n.cap, sizeof(*n.hash));
	n.val = calloc(n.cap, sizeof(*n.val));
	if (n.hash == NULL || n.val == NULL) {
		free(n.hash);
		free(n.val);
		return -1;
	}
	for (i = 0; i < t->cap; i++) {
		if (t->val[i] == 0)
			continue;
		for (j = t->hash[i] & (n.cap - 1); n.val[j] != 0;
		    j = (j + 1) & (n.cap - 1))
			;
		n.hash[j] = t->hash[i];
		n.val[j] = t->val[i];
	}
	free(t->hash);
	free(t->val);
	*t = n;
	return 0;
}

/* The slot holding a value equal to key, or the free slot to put it. */
typedef int itab_eq_fn(const struct ruleset *, uintptr_t, const void *);

static size_t
itab_slot(const struct ruleset *set, const struct itab *t, uint64_t h,
    itab_eq_fn *eq, const void *key)
{
	size_t	j;

	for (j = h & (t->cap - 1); t->val[j] != 0; j = (j + 1) & (t->cap - 1))
		if (t->hash[j] == h && eq(set, t->val[j], key))
			break;
	return j;
}

static int
itab_reserve(struct itab *t)
{
	if ((t->count + 1) * 2 > t->cap)
		return itab_grow(t);
	return 0;
}

/* Room for one more, then the slot of key in *j: 0, or -1 out of memory. */
static int
itab_find(const struct ruleset *set, struct itab *t, uint64_t h,
    itab_eq_fn *eq, const void *key, size_t *j)
{
	if (itab_reserve(t) == -1)
		return -1;
	*j = itab_slot(set, t, h, eq, key);
	return 0;
}

/* Store a new value in the free slot j that itab_find() gave. */
static void
itab_put(struct itab *t, size_t j, uint64_t h, uintptr_t val)
{
	t->hash[j] = h;
	t->val[j] = val;
	t->count++;
}

static void
itab_free(struct itab *t, int free_vals)
{
	size_t	i;

	if (free_vals)
		for (i = 0; i < t->cap; i++)
			free((void *)t->val[i]);
	free(t->hash);
	free(t->val);
}

static int
string_eq(const struct ruleset *set, uintptr_t val, const void *key)
{
	(void)set;
	return strcmp((const char *)val, key) == 0;
}

static const char *
intern_string(struct ruleset *set, const char *s)
{
	uint64_t	 h;
	size_t		 j;
	char		*copy;

	if (s == NULL)
		return NULL;
	h = bytes_hash(s, strlen(s));
	if (itab_find(set, &set->strings, h, string_eq, s, &j) == -1)
		return NULL;
	if (set->strings.val[j] != 0)
		return (const char *)set->strings.val[j];
	if ((copy = strdup(s)) == NULL)
		return NULL;
	itab_put(&set->strings, j, h, (uintptr_t)copy);
	return copy;
}

static int
rule_eq(const struct ruleset *set, uintptr_t val, const void *key)
{
	const struct rule	*a = (const struct rule *)val, *b = key;

	(void)set;
	return a->kind == b->kind && a->relay == b->relay &&
	    a->smarthost == b->smarthost && a->transport == b->transport &&
	    a->reply == b->reply && a->recipients == b->recipients &&
	    a->rcptlist == b->rcptlist && a->tls == b->tls &&
	    a->tls_match == b->tls_match && a->auth == b->auth;
}

static const struct rule *
intern_rule(struct ruleset *set, const struct rule *r)
{
	uint64_t	 h;
	size_t		 j;
	struct rule	*copy;

	h = mix64(((uint64_t)r->kind << 8 | r->relay) +
	    (uintptr_t)r->smarthost) ^ mix64((uintptr_t)r->transport + 1) ^
	    mix64((uintptr_t)r->reply + 2) ^
	    mix64((uintptr_t)r->rcptlist + r->recipients + 3) ^
	    mix64(((uintptr_t)r->tls_match + 4) ^ r->tls) ^
	    mix64((uintptr_t)r->auth + 5);
	if (itab_find(set, &set->rules, h, rule_eq, r, &j) == -1)
		return NULL;
	if (set->rules.val[j] != 0)
		return (const struct rule *)set->rules.val[j];
	if ((copy = malloc(sizeof(*copy))) == NULL)
		return NULL;
	*copy = *r;
	itab_put(&set->rules, j, h, (uintptr_t)copy);
	return copy;
}

static int
triple_eq(const struct ruleset *set, uintptr_t val, const void *key)
{
	const struct triple	*a = &set->triples[val - 1], *b = key;

	return a->rule[0] == b->rule[0] && a->rule[1] == b->rule[1] &&
	    a->rule[2] == b->rule[2];
}

/* Index + 1 of an interned triple, 0 on allocation failure. */
static uint32_t
intern_triple(struct ruleset *set, const struct triple *t)
{
	uint64_t	 h;
	size_t		 j, ncap;
	struct triple	*n;

	h = mix64((uintptr_t)t->rule[0]) ^ mix64((uintptr_t)t->rule[1] + 1) ^
	    mix64((uintptr_t)t->rule[2] + 2);
	if (itab_find(set, &set->tripletab, h, triple_eq, t, &j) == -1)
		return 0;
	if (set->tripletab.val[j] != 0)
		return (uint32_t)set->tripletab.val[j];
	if (set->ntriples == set->triples_cap) {
		ncap = set->triples_cap == 0 ? 16 : set->triples_cap * 2;
		n = reallocarray(set->triples, ncap, sizeof(*n));
		if (n == NULL || ncap >= UINT32_MAX)
			return 0;
		set->triples = n;
		set->triples_cap = ncap;
	}
	set->triples[set->ntriples++] = *t;
	itab_put(&set->tripletab, j, h, set->ntriples);
	return (uint32_t)set->ntriples;
}

/*
 * Node tables.  Big ones are mapped on their own, 2 MB aligned, and
 * offered to the kernel for transparent huge pages: a lookup touches one
 * random node of a table of tens of megabytes, and with 4 kB pages the
 * TLB miss costs as much as the cache miss.
 */
#define HUGE_PAGE	(2UL * 1024 * 1024)

static size_t
table_bytes(size_t cap)
{
	size_t	bytes = cap * sizeof(struct node);

	if (bytes < 2 * HUGE_PAGE)
		return bytes;
	return (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

static struct node *
table_alloc(size_t cap)
{
	size_t		 bytes, head;
	char		*p, *aligned;

	bytes = table_bytes(cap);
	if (bytes < 2 * HUGE_PAGE)
		return calloc(cap, sizeof(struct node));
	p = mmap(NULL, bytes + HUGE_PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	aligned = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1));
	head = (size_t)(aligned - p);
	if (head > 0)
		munmap(p, head);
	if (HUGE_PAGE - head > 0)
		munmap(aligned + bytes, HUGE_PAGE - head);
	(void)madvise(aligned, bytes, MADV_HUGEPAGE);
	return (struct node *)aligned;
}

static void
table_free(struct node *nodes, size_t cap)
{
	if (nodes == NULL)
		return;
	if (table_bytes(cap) < 2 * HUGE_PAGE)
		free(nodes);
	else
		munmap(nodes, table_bytes(cap));
}

/* Nodes. */

static const char *
node_label(const struct ruleset *set, const struct node *n)
{
	uint32_t	off;

	if (n->len <= NODE_INLINE)
		return n->label;
	memcpy(&off, n->label, sizeof(off));
	return set->arena + off;
}

/*
 * A node's label equals label[0..len); the octets of the query from base
 * on are readable, and so are the 8 before an inline label (the node's
 * own fields).
 */
static inline int
label_eq(const struct ruleset *set, const struct node *n, const char *label,
    size_t len, const char *base)
{
	uint64_t	x, y;

	if (len > NODE_INLINE)
		return memcmp(node_label(set, n), label, len) == 0;
	if (len > 8) {
		memcpy(&x, n->label, 8);
		memcpy(&y, label, 8);
		if (x != y)
			return 0;
	}
	x = tail_word((const char *)n + offsetof(struct node, label) + len,
	    len > 8 ? 8 : len, 1);
	y = tail_word(label + len, len > 8 ? 8 : len, label + len - base >= 8);
	return x == y && (len <= 16 || memcmp(n->label + 8, label + 8,
	    len - 16) == 0);
}

static uint32_t
node_find(const struct ruleset *set, uint32_t parent, const char *label,
    size_t len, uint64_t lhash, const char *base)
{
	const struct node	*n;
	uint64_t		 h;
	size_t			 i;
	uint8_t			 tag, t;

	h = node_hash(lhash, parent);
	tag = tag_of(h);
	i = slot_of(h, set->cap);
	/* the tag and the node it guards: two loads, one wait */
	__builtin_prefetch(&set->nodes[i]);
	for (; (t = set->tags[i]) != 0;) {
		if (t == tag) {
			n = &set->nodes[i];
			if (n->parent == parent && n->len == len &&
			    label_eq(set, n, label, len, base))
				return (uint32_t)i;
		}
		if (++i == set->cap)
			i = 0;
	}
	return NO_NODE;
}

/* The node of a normalized name, or NO_NODE. */
static uint32_t
node_of(const struct ruleset *set, const char *name)
{
	size_t		 start, end;
	uint32_t	 id = ROOT_ID;

	for (end = strlen(name); ; end = start - 1) {
		for (start = end; start > 0 && name[start - 1] != '.'; start--)
			;
		if (end == start || end - start > LABEL_MAX)
			return NO_NODE;
		id = node_find(set, id, name + start, end - start,
		    bytes_hash_in(name + start, end - start, name), name);
		if (id == NO_NODE || start == 0)
			return id;
		if (!(set->nodes[id].flags & NODE_CHILDREN))
			return NO_NODE;
	}
}

/* Free slot for (parent, label) in a table known not to hold it. */
static size_t
node_free_slot(const uint8_t *tags, size_t cap, uint64_t h)
{
	size_t	i;

	for (i = slot_of(h, cap); tags[i] != 0;)
		if (++i == cap)
			i = 0;
	return i;
}

/* Re-insert old node id (and first its parents) into the new table. */
static uint32_t
node_move(const struct ruleset *set, struct node *nodes, uint8_t *tags,
    size_t cap, uint32_t *map, uint32_t id)
{
	struct node	n;
	uint64_t	h;
	size_t		i;

	if (id == ROOT_ID)
		return ROOT_ID;
	if (map[id] != NO_NODE)
		return map[id];
	n = set->nodes[id];
	n.parent = node_move(set, nodes, tags, cap, map, n.parent);
	h = node_hash(bytes_hash(node_label(set, &n), n.len), n.parent);
	i = node_free_slot(tags, cap, h);
	nodes[i] = n;
	tags[i] = tag_of(h);
	map[id] = (uint32_t)i;
	return (uint32_t)i;
}

/* Rebuild the table with cap slots; *keep (a node id) follows its node. */
static int
node_rebuild(struct ruleset *set, size_t cap, uint32_t *keep)
{
	struct node	*nodes;
	uint8_t		*tags;
	uint32_t	*map;
	size_t		 i;

	if (cap >= UINT32_MAX - 1)
		return -1;
	nodes = table_alloc(cap);
	tags = calloc(cap, 1);
	map = malloc((set->cap + 1) * sizeof(*map));
	if (nodes == NULL || tags == NULL || map == NULL) {
		table_free(nodes, cap);
		free(tags);
		free(map);
		return -1;
	}
	for (i = 0; i < set->cap; i++)
		map[i] = NO_NODE;
	for (i = 0; i < set->cap; i++)
		if (set->nodes[i].len != 0)
			node_move(set, nodes, tags, cap, map, (uint32_t)i);
	if (*keep != ROOT_ID)
		*keep = map[*keep];
	free(map);
	table_free(set->nodes, set->cap);
	free(set->tags);
	set->nodes = nodes;
	set->tags = tags;
	set->cap = cap;
	return 0;
}

static int
arena_add(struct ruleset *set, const char *label, size_t len, uint32_t *off)
{
	size_t	 ncap;
	char	*n;

	if (set->arena_len + len > set->arena_cap) {
		ncap = set->arena_cap == 0 ? 4096 : set->arena_cap * 2;
		if (ncap > UINT32_MAX)
			return -1;
		if ((n = realloc(set->arena, ncap)) == NULL)
			return -1;
		set->arena = n;
		set->arena_cap = ncap;
	}
	*off = (uint32_t)set->arena_len;
	memcpy(set->arena + set->arena_len, label, len);
	set->arena_len += len;
	return 0;
}

/* The node for (parent, label), made when missing (then *made is 1);
 * NO_NODE when short of memory. */
static uint32_t
node_get(struct ruleset *set, uint32_t parent, const char *label,
    size_t len, int *made)
{
	struct node	*n;
	uint64_t	 lhash, h;
	uint32_t	 id, off;
	size_t		 i;

	lhash = bytes_hash(label, len);
	if (set->cap > 0) {
		id = node_find(set, parent, label, len, lhash, label);
		if (id != NO_NODE) {
			*made = 0;
			return id;
		}
	}
	if ((set->used + 1) * LOAD_DEN > set->cap * LOAD_NUM) {
		if (node_rebuild(set, set->cap < 1024 ? 1024 :
		    set->cap + set->cap / 2, &parent) == -1)
			return NO_NODE;
	}
	h = node_hash(lhash, parent);
	i = node_free_slot(set->tags, set->cap, h);
	n = &set->nodes[i];
	memset(n, 0, sizeof(*n));
	if (len <= NODE_INLINE)
		memcpy(n->label, label, len);
	else {
		if (arena_add(set, label, len, &off) == -1)
			return NO_NODE;
		memcpy(n->label, &off, sizeof(off));
	}
	n->len = (uint8_t)len;
	n->parent = parent;
	set->tags[i] = tag_of(h);
	set->used++;
	*made = 1;
	if (parent == ROOT_ID)
		set->root_children = 1;
	else
		set->nodes[parent].flags |= NODE_CHILDREN;
	return (uint32_t)i;
}

/* Patterns. */

static int
pattern_parse(const char *pattern, enum rule_kind *kind, char *name,
    const char **why)
{
	if (pattern[0] == '#') {
		*kind = RULE_EXACT;
		pattern++;
	} else if (pattern[0] == '.') {
		*kind = RULE_SUBDOMAINS;
		pattern++;
	} else
		*kind = RULE_NAMESPACE;
	return domain_normalize(pattern, strlen(pattern), name, why);
}

static const char *
kind_prefix(int kind)
{
	switch (kind) {
	case RULE_EXACT:
		return "#";
	case RULE_SUBDOMAINS:
		return ".";
	default:
		return "";
	}
}

int
pattern_normalize(const char *pattern, char *out, const char **why)
{
	enum rule_kind	kind;
	char		name[DOMAIN_MAX + 1];

	if (pattern_parse(pattern, &kind, name, why) == -1)
		return -1;
	snprintf(out, PATTERN_MAX + 1, "%s%s", kind_prefix(kind), name);
	return 0;
}

void
rule_format_pattern(const struct rule *rule, const char *name,
    size_t name_len, char *buf, size_t buflen)
{
	size_t	at = 0;

	if (buflen == 0)
		return;
	/* copies, not snprintf(): every decision with a rule comes here */
	str_append(buf, buflen, &at, kind_prefix(rule->kind));
	name_len = strnlen(name, name_len);
	if (name_len > buflen - 1 - at)
		name_len = buflen - 1 - at;
	memcpy(buf + at, name, name_len);
	buf[at + name_len] = '\0';
}

static const char *const relay_names[] = {
	[RELAY_ALWAYS] = "always",
	[RELAY_TRUSTED] = "trusted",
	[RELAY_DENY] = "deny",
};

/* rule_relay_parse - "always", "trusted", "deny" to the enum */
int
rule_relay_parse(const char *word, enum rule_relay *out)
{
	size_t	i;

	for (i = 0; i < sizeof(relay_names) / sizeof(relay_names[0]); i++) {
		if (strcmp(word, relay_names[i]) == 0) {
			*out = (enum rule_relay)i;
			return 0;
		}
	}
	return -1;
}

/* rule_relay_name - the keyword of a relay value */
const char *
rule_relay_name(enum rule_relay relay)
{
	if ((size_t)relay >= sizeof(relay_names) / sizeof(relay_names[0]))
		return "unknown";
	return relay_names[relay];
}

static const char *const recipients_names[] = {
	[RECIPIENTS_ANY] = "any",
	[RECIPIENTS_LIST] = "list",
	[RECIPIENTS_VERIFY] = "verify",
};

/* rule_recipients_parse - "any", "list", "verify" to the enum */
int
rule_recipients_parse(const char *word, enum rule_recipients *out)
{
	size_t	i;

	for (i = 0; i < sizeof(recipients_names) /
	    sizeof(recipients_names[0]); i++) {
		if (strcmp(word, recipients_names[i]) == 0) {
			*out = (enum rule_recipients)i;
			return 0;
		}
	}
	return -1;
}

/* rule_recipients_name - the keyword of a recipients value */
const char *
rule_recipients_name(enum rule_recipients recipients)
{
	if ((size_t)recipients >= sizeof(recipients_names) /
	    sizeof(recipients_names[0]))
		return "unknown";
	return recipients_names[recipients];
}

/* rule_spec_field - the field of spec that key names, or NULL */
const char **
rule_spec_field(struct rule_spec *spec, const char *key)
{
	if (strcmp(key, "relay") == 0)
		return &spec->relay;
	if (strcmp(key, "smarthost") == 0)
		return &spec->smarthost;
	if (strcmp(key, "transport") == 0)
		return &spec->transport;
	if (strcmp(key, "reply") == 0)
		return &spec->reply;
	if (strcmp(key, "recipients") == 0)
		return &spec->recipients;
	if (strcmp(key, "recipients_file") == 0)
		return &spec->recipients_file;
	if (strcmp(key, "tls") == 0)
		return &spec->tls;
	if (strcmp(key, "tls_match") == 0)
		return &spec->tls_match;
	if (strcmp(key, "auth_file") == 0)
		return &spec->auth_file;
	return NULL;
}

/* ruleset_path - a file a rule names, relative to the set's directory */
static char *
ruleset_path(const struct ruleset *set, const char *file)
{
	char	*path;

	if (file[0] == '/' || set->dir == NULL)
		return strdup(file);
	if (asprintf(&path, "%s/%s", set->dir, file) == -1)
		return NULL;
	return path;
}

/* ruleset_list - the list of a recipients_file, loaded once per set */
static const struct rcptlist *
ruleset_list(struct ruleset *set, const char *file, char *err,
    size_t errlen)
{
	struct rcptlist	**grown, *list;
	char		 *path;
	size_t		  i;

	if ((path = ruleset_path(set, file)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < set->nlists; i++)
		if (strcmp(rcptlist_path(set->lists[i]), path) == 0) {
			free(path);
			return set->lists[i];
		}
	list = rcptlist_load(path, err, errlen);
	free(path);
	if (list == NULL)
		return NULL;
	grown = realloc(set->lists, (set->nlists + 1) * sizeof(*grown));
	if (grown == NULL) {
		rcptlist_free(list);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	set->lists = grown;
	set->lists[set->nlists++] = list;
	return list;
}

/* spec_recipients - recipients and recipients_file of a rule spec */
static int
spec_recipients(struct ruleset *set, const struct rule_spec *spec,
    struct rule *r, char *err, size_t errlen)
{
	enum rule_recipients	recipients;

	r->recipients = RECIPIENTS_ANY;
	if (spec->recipients != NULL) {
		if (rule_recipients_parse(spec->recipients, &recipients) == -1) {
			snprintf(err, errlen, "bad recipients \"%s\" "
			    "(any, list or verify)", spec->recipients);
			return -1;
		}
		r->recipients = recipients;
	}
	if (r->recipients != RECIPIENTS_ANY && r->relay == RELAY_DENY) {
		snprintf(err, errlen, "recipients makes no sense with "
		    "relay = \"deny\"");
		return -1;
	}
	if (r->recipients == RECIPIENTS_LIST && spec->recipients_file == NULL) {
		snprintf(err, errlen, "recipients = \"list\" needs "
		    "recipients_file");
		return -1;
	}
	if (r->recipients != RECIPIENTS_LIST && spec->recipients_file != NULL) {
		snprintf(err, errlen, "recipients_file is only for "
		    "recipients = \"list\"");
		return -1;
	}
	if (r->recipients == RECIPIENTS_LIST && (r->rcptlist =
	    ruleset_list(set, spec->recipients_file, err, errlen)) == NULL)
		return -1;
	return 0;
}

/* spec_auth - the credentials of a rule spec, with what they need */
static int
spec_auth(struct ruleset *set, const struct rule_spec *spec,
    struct rule *r, char *err, size_t errlen)
{
	char	*path;

	if (spec->auth_file == NULL)
		return 0;
	if (spec->smarthost == NULL) {
		snprintf(err, errlen, "auth_file needs a smarthost (the "
		    "credentials are given to its next hops)");
		authfile_refuse();
		return -1;
	}
	if (!tls_carries_password(r->tls)) {
		authfile_refuse();
		snprintf(err, errlen, "auth_file needs tls = \"encrypt\", "
		    "\"verify\" or \"secure\", not %s%s%s: the password "
		    "must not travel in clear%s", r->tls == TLS_UNSET ? "" :
		    "\"", r->tls == TLS_UNSET ? "unset" :
		    tls_level_name(r->tls), r->tls == TLS_UNSET ? "" : "\"",
		    r->tls == TLS_DANE ? " (dane without usable TLSA records "
		    "falls back to opportunistic TLS)" : "");
		return -1;
	}
	if ((path = ruleset_path(set, spec->auth_file)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->auth = authset_load(&set->auths, path, err, errlen);
	free(path);
	return r->auth == NULL ? -1 : 0;
}

/*
 * spec_smarthost - the interned normal form of a smart host text, or
 * NULL with err.  A table of a million rules names a few smart hosts,
 * most often the one of the rule before: that one is not parsed again
 * (smarthost_normalize() depends on the text alone).
 */
static const char *
spec_smarthost(struct ruleset *set, const char *text, char *err,
    size_t errlen)
{
	char		 host[SMARTHOST_MAX + 1], *copy;
	const char	*why, *ihost;

	if (set->memo_raw != NULL && strcmp(set->memo_raw, text) == 0)
		return set->memo_host;
	if (smarthost_normalize(text, host, sizeof(host), &why) == -1) {
		snprintf(err, errlen, "bad smarthost \"%s\": %s", text, why);
		return NULL;
	}
	if ((ihost = intern_string(set, host)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((copy = strdup(text)) != NULL) {
		free(set->memo_raw);
		set->memo_raw = copy;
		set->memo_host = ihost;
	}
	return ihost;
}

/* The rule spec, checked, with its strings interned. */
static int
spec_rule(struct ruleset *set, enum rule_kind kind,
    const struct rule_spec *spec, struct rule *r, char *err, size_t errlen)
{
	const char	*why, *host;
	enum rule_relay	 relay;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->relay = RELAY_ALWAYS;
	if (spec == NULL)
		return 0;
	if (spec->relay != NULL) {
		if (rule_relay_parse(spec->relay, &relay) == -1) {
			snprintf(err, errlen, "bad relay \"%s\" "
			    "(always, trusted or deny)", spec->relay);
			return -1;
		}
		r->relay = relay;
	}
	host = NULL;
	if (spec->smarthost != NULL && (host = spec_smarthost(set,
	    spec->smarthost, err, errlen)) == NULL)
		return -1;
	if (spec->transport != NULL &&
	    transport_valid(spec->transport, &why) == -1) {
		snprintf(err, errlen, "bad transport \"%s\": %s",
		    spec->transport, why);
		return -1;
	}
	if (spec->reply != NULL && reply_valid(spec->reply, &why) == -1) {
		snprintf(err, errlen, "bad reply \"%s\": %s", spec->reply, why);
		return -1;
	}
	if (tls_valid(spec->tls, spec->tls_match, spec->smarthost,
	    &r->tls, &why) == -1) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (spec->transport != NULL && spec->smarthost == NULL) {
		snprintf(err, errlen, "transport needs a smarthost");
		return -1;
	}
	if (r->relay == RELAY_DENY && spec->smarthost != NULL) {
		snprintf(err, errlen, "smarthost makes no sense with "
		    "relay = \"deny\"");
		return -1;
	}
	if (r->relay != RELAY_DENY && spec->reply != NULL) {
		snprintf(err, errlen, "reply is only for relay = \"deny\"");
		return -1;
	}
	if (spec_recipients(set, spec, r, err, errlen) == -1 ||
	    spec_auth(set, spec, r, err, errlen) == -1)
		return -1;
	r->smarthost = host;
	r->transport = intern_string(set, spec->transport);
	r->reply = intern_string(set, spec->reply);
	r->tls_match = intern_string(set, spec->tls_match);
	if ((spec->tls_match != NULL && r->tls_match == NULL) ||
	    (spec->smarthost != NULL && r->smarthost == NULL) ||
	    (spec->transport != NULL && r->transport == NULL) ||
	    (spec->reply != NULL && r->reply == NULL)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

struct ruleset *
ruleset_new(void)
{
	struct ruleset	*set;

	if ((set = calloc(1, sizeof(*set))) != NULL)
	{
		set->auths.user = (uid_t)-1;
		set->auths.group = getegid();
	}
	return set;
}

int
ruleset_add(struct ruleset *set, const char *pattern,
    const struct rule_spec *spec, char *err, size_t errlen)
{
	enum rule_kind		 kind;
	char			 name[DOMAIN_MAX + 1];
	const char		*why;
	struct rule		 r;
	struct triple		 t;
	const struct rule	*ir;
	uint32_t		 id, tid;
	size_t			 end, start;
	int			 made;

	if (set->over != NULL)
		return set->gen->add(set->over, pattern, spec, err, errlen);
	if (pattern_parse(pattern, &kind, name, &why) == -1) {
		snprintf(err, errlen, "bad pattern \"%s\": %s", pattern, why);
		return -1;
	}
	id = ROOT_ID;
	for (end = strlen(name); ; end = start - 1) {
		for (start = end; start > 0 && name[start - 1] != '.'; start--)
			;
		id = node_get(set, id, name + start, end - start, &made);
		if (id == NO_NODE)
			goto nomem;
		if (start == 0)
			break;
	}
	/* a node just made has no rules: do not wait for its cache line */
	memset(&t, 0, sizeof(t));
	if (!made && set->nodes[id].triple != 0)
		t = set->triples[set->nodes[id].triple - 1];
	if (t.rule[kind] != NULL) {
		snprintf(err, errlen, "duplicate pattern \"%s%s\"",
		    kind_prefix(kind), name);
		return -1;
	}
	if (spec_rule(set, kind, spec, &r, err, errlen) == -1)
		return -1;
	if ((ir = intern_rule(set, &r)) == NULL)
		goto nomem;
	t.rule[kind] = ir;
	if ((tid = intern_triple(set, &t)) == 0)
		goto nomem;
	set->nodes[id].triple = tid;
	set->nrules++;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

const struct rule *
ruleset_lookup(const struct ruleset *set, const char *domain,
    size_t *name_len)
{
	const struct node	*n;
	const struct triple	*t;
	const struct rule	*best, *r;
	size_t			 len, start, end, best_len;
	uint32_t		 id;

	if (set != NULL && set->over != NULL)
		return set->gen->lookup(set->over, domain, name_len);
	if (set == NULL || !set->root_children)
		return NULL;
	len = strlen(domain);
	if (len == 0 || len > DOMAIN_MAX)
		return NULL;
	best = NULL;
	best_len = 0;
	id = ROOT_ID;
	for (end = len; ; end = start - 1) {
		for (start = end; start > 0 && domain[start - 1] != '.'; start--)
			;
		if (end == start || end - start > LABEL_MAX)
			return NULL;
		id = node_find(set, id, domain + start, end - start,
		    bytes_hash_in(domain + start, end - start, domain), domain);
		if (id == NO_NODE)
			break;
		n = &set->nodes[id];
		if (n->triple != 0) {
			t = &set->triples[n->triple - 1];
			if (start == 0)
				r = t->rule[RULE_EXACT] != NULL ?
				    t->rule[RULE_EXACT] :
				    t->rule[RULE_NAMESPACE];
			else
				r = t->rule[RULE_NAMESPACE] != NULL ?
				    t->rule[RULE_NAMESPACE] :
				    t->rule[RULE_SUBDOMAINS];
			if (r != NULL) {
				best = r;
				best_len = len - start;
			}
		}
		if (start == 0 || !(n->flags & NODE_CHILDREN))
			break;
	}
	if (best != NULL && name_len != NULL)
		*name_len = best_len;
	return best;
}

int
ruleset_reserve(struct ruleset *set, size_t names)
{
	uint32_t	keep = ROOT_ID;
	size_t		cap;

	if (set->over != NULL)
		return 0;
	if (names > UINT32_MAX / 2)
		return -1;
	cap = (set->used + names) * LOAD_DEN / LOAD_NUM + 1;
	if (cap <= set->cap)
		return 0;
	return node_rebuild(set, cap, &keep);
}

int
ruleset_has_pattern(const struct ruleset *set, const char *pattern)
{
	enum rule_kind		 kind;
	char			 name[DOMAIN_MAX + 1];
	const char		*why;
	uint32_t		 id;

	if (set != NULL && set->over != NULL)
		return set->gen->has_pattern(set->over, pattern);
	if (set == NULL || set->cap == 0 ||
	    pattern_parse(pattern, &kind, name, &why) == -1 ||
	    (id = node_of(set, name)) == NO_NODE)
		return 0;
	return set->nodes[id].triple != 0 &&
	    set->triples[set->nodes[id].triple - 1].rule[kind] != NULL;
}

size_t
ruleset_count(const struct ruleset *set)
{
	if (set != NULL && set->over != NULL)
		return set->gen->count(set->over);
	return set == NULL ? 0 : set->nrules;
}

int
rule_same(const struct rule *a, const struct rule *b)
{
	return a->kind == b->kind && a->relay == b->relay &&
	    str_same(a->smarthost, b->smarthost) &&
	    str_same(a->transport, b->transport) &&
	    str_same(a->reply, b->reply) && a->recipients == b->recipients &&
	    a->rcptlist == b->rcptlist && a->tls == b->tls &&
	    str_same(a->tls_match, b->tls_match) && a->auth == b->auth;
}

int
ruleset_any(const struct ruleset *set, int (*fn)(const struct rule *rule))
{
	size_t	 i;

	if (set == NULL)
		return 0;
	if (set->over != NULL)
		return set->gen->any(set->over, fn);
	for (i = 0; i < set->rules.cap; i++)
		if (set->rules.val[i] != 0 &&
		    fn((const struct rule *)set->rules.val[i]))
			return 1;
	return 0;
}

/* Walking: children lists built on the side, sorted by label. */

struct walk {
	const struct ruleset *set;
	uint32_t	*first;		/* per parent slot + root: start index */
	uint32_t	*child;		/* node ids grouped by parent */
	ruleset_walk_fn	*fn;
	void		*arg;
	char		 name[DOMAIN_MAX + 2];
};

static int
walk_cmp(const void *a, const void *b, void *arg)
{
	const struct ruleset	*set = arg;
	const struct node	*x, *y;
	size_t			 n;
	int			 c;

	x = &set->nodes[*(const uint32_t *)a];
	y = &set->nodes[*(const uint32_t *)b];
	n = x->len < y->len ? x->len : y->len;
	c = memcmp(node_label(set, x), node_label(set, y), n);
	return c != 0 ? c : (int)x->len - (int)y->len;
}

/* fn for the rules written at node n, whose name is name. */
static int
walk_rules(const struct ruleset *set, const struct node *n, const char *name,
    ruleset_walk_fn *fn, void *arg)
{
	const struct triple	*t;
	char			 pattern[PATTERN_MAX + 2];
	size_t			 at;
	int			 k, rc;

	if (n->triple == 0)
		return 0;
	t = &set->triples[n->triple - 1];
	for (k = RULE_EXACT; k <= RULE_SUBDOMAINS; k++) {
		if (t->rule[k] == NULL)
			continue;
		at = 0;
		str_append(pattern, sizeof(pattern), &at, kind_prefix(k));
		str_append(pattern, sizeof(pattern), &at, name);
		if ((rc = fn(pattern, t->rule[k], arg)) != 0)
			return rc;
	}
	return 0;
}

/* Visit the children of parent; name[pos..] holds parent's name. */
static int
walk_node(struct walk *w, uint32_t parent, size_t pos)
{
	const struct node	*n;
	size_t			 slot, i, p;
	uint32_t		 id;
	int			 rc;

	slot = parent == ROOT_ID ? w->set->cap : parent;
	for (i = w->first[slot]; i < w->first[slot + 1]; i++) {
		id = w->child[i];
		n = &w->set->nodes[id];
		p = pos;
		if (p < sizeof(w->name) - 1)
			w->name[--p] = '.';
		p -= n->len;
		memcpy(w->name + p, node_label(w->set, n), n->len);
		if ((rc = walk_rules(w->set, n, w->name + p, w->fn,
		    w->arg)) != 0)
			return rc;
		if (n->flags & NODE_CHILDREN)
			if ((rc = walk_node(w, id, p)) != 0)
				return rc;
	}
	return 0;
}

/* 1 when node id is below (not at) node top. */
static int
walk_is_below(const struct ruleset *set, uint32_t id, uint32_t top)
{
	while (set->nodes[id].parent != ROOT_ID) {
		id = set->nodes[id].parent;
		if (id == top)
			return 1;
	}
	return 0;
}

/*
 * Walk the rules of the nodes below top (ROOT_ID: all), whose name is in
 * w->name from pos on.
 */
static int
walk_from(struct walk *w, uint32_t top, size_t pos)
{
	const struct ruleset *set = w->set;
	size_t		 i, slot, *fill;
	int		 rc;

	w->first = calloc(set->cap + 2, sizeof(*w->first));
	w->child = malloc((set->used + 1) * sizeof(*w->child));
	fill = calloc(set->cap + 1, sizeof(*fill));
	if (w->first == NULL || w->child == NULL || fill == NULL) {
		rc = -1;
		errno = ENOMEM;
		goto out;
	}
	for (i = 0; i < set->cap; i++) {
		if (set->nodes[i].len == 0 || (top != ROOT_ID &&
		    !walk_is_below(set, (uint32_t)i, top)))
			continue;
		slot = set->nodes[i].parent == ROOT_ID ? set->cap :
		    set->nodes[i].parent;
		w->first[slot + 1]++;
	}
	for (i = 1; i < set->cap + 2; i++)
		w->first[i] += w->first[i - 1];
	for (i = 0; i < set->cap; i++) {
		if (set->nodes[i].len == 0 || (top != ROOT_ID &&
		    !walk_is_below(set, (uint32_t)i, top)))
			continue;
		slot = set->nodes[i].parent == ROOT_ID ? set->cap :
		    set->nodes[i].parent;
		w->child[w->first[slot] + fill[slot]++] = (uint32_t)i;
	}
	for (slot = 0; slot <= set->cap; slot++)
		if (w->first[slot + 1] - w->first[slot] > 1)
			qsort_r(w->child + w->first[slot],
			    w->first[slot + 1] - w->first[slot],
			    sizeof(*w->child), walk_cmp, (void *)set);
	rc = walk_node(w, top, pos);
out:
	free(w->first);
	free(w->child);
	free(fill);
	return rc;
}

int
ruleset_walk(const struct ruleset *set, ruleset_walk_fn *fn, void *arg)
{
	struct walk	 w;

	if (set != NULL && set->over != NULL)
		return set->gen->walk(set->over, NULL, fn, arg);
	if (set == NULL || set->cap == 0)
		return 0;
	memset(&w, 0, sizeof(w));
	w.set = set;
	w.fn = fn;
	w.arg = arg;
	w.name[sizeof(w.name) - 1] = '\0';
	return walk_from(&w, ROOT_ID, sizeof(w.name) - 1);
}

/* ruleset_walk_below - the rules at a name and below it, in walk order */
int
ruleset_walk_below(const struct ruleset *set, const char *name,
    ruleset_walk_fn *fn, void *arg)
{
	struct walk	 w;
	const struct node *n;
	size_t		 len;
	uint32_t	 id;
	int		 rc;

	if (set != NULL && set->over != NULL)
		return set->gen->walk(set->over, name, fn, arg);
	len = strlen(name);
	if (set == NULL || set->cap == 0 || !set->root_children || len == 0 ||
	    len > DOMAIN_MAX || (id = node_of(set, name)) == NO_NODE)
		return 0;
	n = &set->nodes[id];
	if ((rc = walk_rules(set, n, name, fn, arg)) != 0)
		return rc;
	/* a leaf, the usual name of a change: no scan of the set */
	if (!(n->flags & NODE_CHILDREN))
		return 0;
	memset(&w, 0, sizeof(w));
	w.set = set;
	w.fn = fn;
	w.arg = arg;
	memcpy(w.name + sizeof(w.name) - 1 - len, name, len + 1);
	return walk_from(&w, id, sizeof(w.name) - 1 - len);
}

int
ruleset_set_dir(struct ruleset *set, const char *dir)
{
	char	*copy;

	if (set->over != NULL)
		return set->gen->set_dir(set->over, dir);
	if ((copy = strdup(dir)) == NULL)
		return -1;
	free(set->dir);
	set->dir = copy;
	return 0;
}

void
ruleset_set_auth_service(struct ruleset *set, long uid, long gid)
{
	set->auths.user = (uid_t)uid;
	set->auths.group = gid == -1 ? getegid() : (gid_t)gid;
}

void
ruleset_free(struct ruleset *set)
{
	size_t	i;

	if (set == NULL || atomic_fetch_sub(&set->refs, 1) > 0)
		return;
	if (set->over != NULL)
		set->gen->free(set->over);
	table_free(set->nodes, set->cap);
	free(set->tags);
	free(set->arena);
	free(set->triples);
	itab_free(&set->strings, 1);
	itab_free(&set->rules, 1);
	itab_free(&set->tripletab, 0);
	for (i = 0; i < set->nlists; i++)
		rcptlist_free(set->lists[i]);
	free(set->lists);
	authset_free(&set->auths);
	free(set->dir);
	free(set->memo_raw);
	free(set);
}

/* The primitives of overlay.h. */

/* ruleset_levels - the rules at each name on the way down to domain */
size_t
ruleset_levels(const struct ruleset *set, const char *domain, size_t len,
    const struct rule *const **at, size_t max)
{
	const struct node	*n;
	size_t			 start, end, levels;
	uint32_t		 id;

	if (set == NULL || !set->root_children || len == 0)
		return 0;
	levels = 0;
	id = ROOT_ID;
	for (end = len; levels < max; end = start - 1) {
		for (start = end; start > 0 && domain[start - 1] != '.'; start--)
			;
		if (end == start || end - start > LABEL_MAX)
			break;
		id = node_find(set, id, domain + start, end - start,
		    bytes_hash_in(domain + start, end - start, domain), domain);
		if (id == NO_NODE)
			break;
		n = &set->nodes[id];
		at[levels++] = n->triple != 0 ?
		    set->triples[n->triple - 1].rule : NULL;
		if (start == 0 || !(n->flags & NODE_CHILDREN))
			break;
	}
	return levels;
}

/* ruleset_put - the rule of one pattern set, replaced or cleared */
int
ruleset_put(struct ruleset *set, enum rule_kind kind, const char *name,
    const struct rule *rule)
{
	struct triple		 t;
	struct rule		 r;
	const struct rule	*ir;
	uint32_t		 id, tid;
	size_t			 end, start;
	int			 made;

	id = ROOT_ID;
	for (end = strlen(name); ; end = start - 1) {
		for (start = end; start > 0 && name[start - 1] != '.'; start--)
			;
		id = node_get(set, id, name + start, end - start, &made);
		if (id == NO_NODE)
			return -1;
		if (start == 0)
			break;
	}
	memset(&t, 0, sizeof(t));
	if (set->nodes[id].triple != 0)
		t = set->triples[set->nodes[id].triple - 1];
	ir = rule;
	if (rule != NULL && rule != &rule_tombstone) {
		r = *rule;
		r.kind = kind;
		r.smarthost = intern_string(set, rule->smarthost);
		r.transport = intern_string(set, rule->transport);
		r.reply = intern_string(set, rule->reply);
		r.tls_match = intern_string(set, rule->tls_match);
		if ((rule->smarthost != NULL && r.smarthost == NULL) ||
		    (rule->transport != NULL && r.transport == NULL) ||
		    (rule->reply != NULL && r.reply == NULL) ||
		    (rule->tls_match != NULL && r.tls_match == NULL) ||
		    (ir = intern_rule(set, &r)) == NULL)
			return -1;
	}
	if (ir != NULL && t.rule[kind] == NULL)
		set->nrules++;
	else if (ir == NULL && t.rule[kind] != NULL)
		set->nrules--;
	t.rule[kind] = ir;
	if ((tid = intern_triple(set, &t)) == 0)
		return -1;
	set->nodes[id].triple = tid;
	return 0;
}

/* ruleset_hold - one more holder: ruleset_free() drops one */
struct ruleset *
ruleset_hold(struct ruleset *set)
{
	atomic_fetch_add(&set->refs, 1);
	return set;
}

/* ruleset_set_overlay - set becomes the generation over (it owns it) */
void
ruleset_set_overlay(struct ruleset *set, struct overlay *over,
    const struct ruleset_generation *ops)
{
	set->over = over;
	set->gen = ops;
}

/* ruleset_overlay - the generation a set is, or NULL for a plain set */
struct overlay *
ruleset_overlay(const struct ruleset *set)
{
	return set == NULL ? NULL : set->over;
}
