/* SPDX-License-Identifier: MIT */
#include "timer.h"

#include <stdlib.h>

void timer_init(struct timer *t, timer_fn fn, void *ctx)
{
	*t = (struct timer){ .fn = fn, .ctx = ctx };
}

static bool earlier(const struct timer *a, const struct timer *b)
{
	return a->due_ns < b->due_ns;
}

static void place(struct timer_heap *h, size_t i, struct timer *t)
{
	h->items[i] = t;
	t->slot = i + 1;
}

static void sift_up(struct timer_heap *h, size_t i)
{
	struct timer *t = h->items[i];

	while (i > 0 && earlier(t, h->items[(i - 1) / 2])) {
		place(h, i, h->items[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(h, i, t);
}

static void sift_down(struct timer_heap *h, size_t i)
{
	struct timer *t = h->items[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= h->n)
			break;
		if (child + 1 < h->n && earlier(h->items[child + 1], h->items[child]))
			child++;
		if (!earlier(h->items[child], t))
			break;
		place(h, i, h->items[child]);
		i = child;
	}
	place(h, i, t);
}

static int grow(struct timer_heap *h)
{
	size_t more = h->allocated ? 2 * h->allocated : 16;
	struct timer **items = realloc(h->items, more * sizeof(*items));

	if (!items)
		return -1;
	h->items = items;
	h->allocated = more;
	return 0;
}

int timer_heap_add(struct timer_heap *h, struct timer *t, long long due_ns)
{
	timer_heap_remove(h, t);
	if (h->n == h->allocated && grow(h) < 0)
		return -1;
	t->due_ns = due_ns;
	place(h, h->n++, t);
	sift_up(h, h->n - 1);
	return 0;
}

void timer_heap_remove(struct timer_heap *h, struct timer *t)
{
	struct timer *last;
	size_t i;

	if (!t->slot)
		return;
	i = t->slot - 1;
	t->slot = 0;
	last = h->items[--h->n];
	if (i == h->n)
		return;
	/* The last one takes the hole and goes whichever way it must. */
	place(h, i, last);
	sift_up(h, i);
	sift_down(h, last->slot - 1);
}

struct timer *timer_heap_first(const struct timer_heap *h)
{
	return h->n ? h->items[0] : NULL;
}

void timer_heap_clear(struct timer_heap *h)
{
	for (size_t i = 0; i < h->n; i++)
		h->items[i]->slot = 0;
	free(h->items);
	*h = (struct timer_heap){ 0 };
}
