/*
 * contacts — grouping addresses into people and counting their
 * interactions.  See contacts.h.
 */
#include "contacts.h"

#include <stdlib.h>
#include <string.h>

#include "ident.h"

/* Union-find over address indices. */
static int find(int *parent, int i)
{
	while (parent[i] != i) {
		parent[i] = parent[parent[i]];
		i = parent[i];
	}
	return i;
}

static void join(int *parent, int a, int b)
{
	a = find(parent, a);
	b = find(parent, b);
	if (a != b)
		parent[a > b ? a : b] = a < b ? a : b;
}

typedef struct {
	char *key;
	int idx;
} keyed_t;

static int keyed_cmp(const void *a, const void *b)
{
	const keyed_t *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : x->idx - y->idx;
}

static int addr_cmp(const void *key, const void *a)
{
	return strcmp(key, ((const store_addr_t *)a)->addr);
}

/* The index of addr in h->addrs (sorted), or -1. */
static int addr_index(const store_history_t *h, const char *addr)
{
	const store_addr_t *a =
		bsearch(addr, h->addrs, h->naddrs, sizeof *h->addrs, addr_cmp);
	return a ? (int)(a - h->addrs) : -1;
}

static bool in_list(const strvec_t *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

/* Join addresses that share a merge key (same local part, same name),
 * except those the leader split off. */
static void auto_merge(const store_history_t *h, const store_said_t *said,
		       const bool *is_contact, int *parent)
{
	keyed_t *k = xcalloc(h->naddrs ? h->naddrs : 1, sizeof *k);
	size_t n = 0;
	for (size_t i = 0; i < h->naddrs; i++) {
		if (!is_contact[i] ||
		    (said && in_list(&said->unmerged, h->addrs[i].addr)))
			continue;
		char *key = ident_merge_key(h->addrs[i].addr, h->addrs[i].name);
		if (key)
			k[n++] = (keyed_t){key, (int)i};
	}
	qsort(k, n, sizeof *k, keyed_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(k[i - 1].key, k[i].key) == 0)
			join(parent, k[i - 1].idx, k[i].idx);
	for (size_t i = 0; i < n; i++)
		free(k[i].key);
	free(k);
}

static int order_cmp(const void *a, const void *b, void *v)
{
	const contact_t *c = v;
	return strcmp(c[*(const int *)a].address, c[*(const int *)b].address);
}

void contacts_build(const config_t *cfg, const config_leader_t *l,
		    const store_said_t *said, const ident_extra_t *x,
		    const store_history_t *h, contacts_t *out)
{
	size_t na = h->naddrs;
	bool *is_contact = xcalloc(na, sizeof *is_contact);
	int *parent = xcalloc(na, sizeof *parent);
	size_t *uses = xcalloc(na, sizeof *uses); /* interactions per address */
	int *root_person = xcalloc(na, sizeof *root_person);
	int *last = xcalloc(na, sizeof *last); /* per person: last ia */

	memset(out, 0, sizeof *out);
	out->person_of = xcalloc(na, sizeof *out->person_of);
	for (size_t i = 0; i < na; i++) {
		parent[i] = (int)i;
		is_contact[i] =
			ident_classify(l, x, h->addrs[i].addr) == IDENT_CONTACT;
	}
	if (cfg->auto_merge)
		auto_merge(h, said, is_contact, parent);
	for (size_t i = 0; said && i + 1 < said->merged.n; i += 2) {
		int a = addr_index(h, said->merged.v[i]);
		int b = addr_index(h, said->merged.v[i + 1]);
		if (a >= 0 && b >= 0 && is_contact[a] && is_contact[b])
			join(parent, a, b);
	}

	/* A person for every group with an address seen in the window. */
	for (size_t i = 0; i < h->nias; i++) {
		const uint32_t *pv = store_parts(h, &h->ias[i]);
		for (size_t j = 0; j < h->ias[i].nparts; j++)
			uses[pv[j]]++;
	}
	for (size_t i = 0; i < na; i++)
		root_person[i] = -1;
	size_t np = 0;
	for (size_t i = 0; i < na; i++) {
		if (!is_contact[i] || !uses[i])
			continue;
		int r = find(parent, (int)i);
		if (root_person[r] < 0)
			root_person[r] = (int)np++;
	}
	out->v = xcalloc(np, sizeof *out->v);
	out->n = np;
	for (size_t i = 0; i < na; i++) {
		out->person_of[i] = -1;
		if (!is_contact[i])
			continue;
		int p = root_person[find(parent, (int)i)];
		if (p < 0)
			continue;
		out->person_of[i] = p;
		contact_t *c = &out->v[p];
		c->addresses =
			xrealloc(c->addresses,
				 (c->naddresses + 1) * sizeof *c->addresses);
		c->addresses[c->naddresses++] = h->addrs[i].addr;
		/* The primary address is the one used most; ties go to the
		 * first in address order. */
		if (!c->address || uses[i] > uses[last[p]]) {
			c->address = h->addrs[i].addr;
			last[p] = (int)i;
		}
	}
	for (size_t i = 0; i < na; i++) {
		int p = out->person_of[i];
		if (p >= 0 && !out->v[p].name && h->addrs[last[p]].name == NULL)
			out->v[p].name = h->addrs[i].name;
	}
	for (size_t p = 0; p < np; p++) {
		contact_t *c = &out->v[p];
		if (h->addrs[last[p]].name)
			c->name = h->addrs[last[p]].name;
		/* Primary first, the others in address order. */
		for (size_t j = 0; j < c->naddresses; j++)
			if (c->addresses[j] == c->address) {
				memmove(c->addresses + 1, c->addresses,
					j * sizeof *c->addresses);
				c->addresses[0] = c->address;
				break;
			}
		c->circle = NULL;
		for (size_t j = 0; !c->circle && j < c->naddresses; j++)
			c->circle = ident_circle(l, c->addresses[j]);
		c->last_contact = c->last_seen = -1;
		last[p] = -1;
	}

	/* Counts: an interaction naming two addresses of one person counts
	 * once for that person. */
	for (size_t i = 0; i < h->nias; i++) {
		const store_ia_t *ia = &h->ias[i];
		const uint32_t *pv = store_parts(h, ia);
		for (size_t j = 0; j < ia->nparts; j++) {
			int p = out->person_of[pv[j]];
			if (p < 0 || last[p] == (int)i)
				continue;
			last[p] = (int)i;
			contact_t *c = &out->v[p];
			c->interactions++;
			if (ia->time > c->last_seen)
				c->last_seen = ia->time;
			if (ia->weight >= CONTACTS_TOUCH_WEIGHT) {
				c->touches++;
				if (ia->time >= c->last_contact) {
					c->last_contact = ia->time;
					c->last_channel = ia->channel;
				}
			}
		}
	}

	/* Sort by address; person_of follows. */
	int *order = xcalloc(np, sizeof *order),
	    *pos = xcalloc(np, sizeof *pos);
	for (size_t p = 0; p < np; p++)
		order[p] = (int)p;
	qsort_r(order, np, sizeof *order, order_cmp, out->v);
	contact_t *sorted = xcalloc(np, sizeof *sorted);
	for (size_t k = 0; k < np; k++) {
		sorted[k] = out->v[order[k]];
		pos[order[k]] = (int)k;
	}
	for (size_t i = 0; i < na; i++)
		if (out->person_of[i] >= 0)
			out->person_of[i] = pos[out->person_of[i]];
	free(out->v);
	out->v = sorted;

	free(pos);
	free(order);
	free(is_contact);
	free(parent);
	free(uses);
	free(root_person);
	free(last);
}

void contacts_free(contacts_t *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].addresses);
	free(c->v);
	free(c->person_of);
}
