// SPDX-License-Identifier: GPL-2.0
/*
 * Aggregations, kernel side (dtrace-internals.md 3.6).
 *
 * Each possible CPU has an aggregation buffer of two halves of aggsize
 * bytes.  In the active half, records grow up from offset 0 and the hash
 * grows down from the end: the bucket array (u32 key numbers) at the top,
 * key headers below it.  The hash is set up on the first aggregation after
 * a switch.  DTRACEIOC_AGGSNAP switches the halves on the owning CPU (in
 * an IPI: never in the middle of a firing there) and copies the records of
 * the inactive half out; so the kernel keeps per-interval values and the
 * consumer adds them up.
 *
 * A record: u32 aggregation id at 0 (its base), the key bytes at their
 * record offsets relative to the base, then the value words.  Records are
 * 8-aligned; the gaps are DTRACE_AGGIDNONE words.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <linux/ktime.h>
#include <linux/kprobes.h>
#include <asm/unaligned.h>

#include "dtrace_impl.h"

#define DTRACE_DEFAULT_AGGSIZE		(4ULL << 20)
#define DTRACE_MIN_AGGSIZE		256
#define DTRACE_QUANTIZE_NBUCKETS	127
#define DTRACE_QUANTIZE_ZEROBUCKET	63
#define DTRACE_AGGHASHSIZE_SLEW		17

#define DTRACE_LQUANTIZE_STEP(a)	((u16)((a) >> 48))
#define DTRACE_LQUANTIZE_LEVELS(a)	((u16)((a) >> 32))
#define DTRACE_LQUANTIZE_BASE(a)	((s32)(u32)(a))
#define DTRACE_LLQUANTIZE_FACTOR(a)	((u16)((a) >> 48))
#define DTRACE_LLQUANTIZE_LOW(a)	((u16)((a) >> 32))
#define DTRACE_LLQUANTIZE_HIGH(a)	((u16)((a) >> 16))
#define DTRACE_LLQUANTIZE_NSTEPS(a)	((u16)(a))

/* A key header, below the bucket array of the active half. */
struct dtrace_aggkey {
	u32 hashval;
	u32 next;			/* key number + 1 in the bucket; 0 ends */
	u32 size;			/* key bytes = value offset */
	u16 kind;			/* the aggregating action */
	u16 pad;
	u64 data;			/* offset of the record */
};

/*
 * ---------------------------------------------------------------------------
 * The aggregating functions (probe context)
 * ---------------------------------------------------------------------------
 */
static inline notrace s64 dtrace_quantize_bucketval(int b)
{
	if (b < DTRACE_QUANTIZE_ZEROBUCKET)
		return -(1LL << (DTRACE_QUANTIZE_ZEROBUCKET - 1 - b));
	if (b == DTRACE_QUANTIZE_ZEROBUCKET)
		return 0;
	return 1LL << (b - DTRACE_QUANTIZE_ZEROBUCKET - 1);
}

static notrace void dtrace_agg_quantize(u64 *q, u64 nval, u64 incr)
{
	s64 val = (s64)nval;
	int i;

	if (val < 0) {
		for (i = 0; i < DTRACE_QUANTIZE_ZEROBUCKET; i++) {
			if (val <= dtrace_quantize_bucketval(i)) {
				q[i] += incr;
				return;
			}
		}
		WARN_ON_ONCE(1);
		return;
	}
	for (i = DTRACE_QUANTIZE_ZEROBUCKET + 1;
	     i < DTRACE_QUANTIZE_NBUCKETS; i++) {
		if (val < dtrace_quantize_bucketval(i)) {
			q[i - 1] += incr;
			return;
		}
	}
	q[DTRACE_QUANTIZE_NBUCKETS - 1] += incr;
}

static notrace void dtrace_agg_lquantize(u64 *lq, u64 nval, u64 incr)
{
	u64 arg = *lq++;
	s64 base = DTRACE_LQUANTIZE_BASE(arg);
	u16 step = DTRACE_LQUANTIZE_STEP(arg);
	u16 levels = DTRACE_LQUANTIZE_LEVELS(arg);
	s64 val = (s32)nval, level;

	if (val < base) {
		lq[0] += incr;
		return;
	}
	level = (val - base) / step;
	if (level < levels) {
		lq[level + 1] += incr;
		return;
	}
	lq[levels + 1] += incr;
}

/*
 * The llquantize bucket of value (illumos).  dtrace_agg_action() made sure
 * factor^(high + 1) fits in 63 bits, so the loop runs at most 63 times.
 */
static notrace u32 dtrace_llquantize_bucket(u16 factor, u16 low, u16 high,
					    u16 nsteps, s64 value)
{
	s64 this = 1, last, next;
	u32 base = 1, order, nbuckets;

	for (order = 0; order < low; order++)
		this *= factor;
	if (value < this)
		return 0;
	last = this;
	for (this *= factor; order <= high; order++) {
		nbuckets = this > nsteps ? nsteps : this;
		if (check_mul_overflow(this, (s64)factor, &next))
			value = min(value, this - 1);
		if (value < this)
			return base + (value - last) / (this / nbuckets);
		base += nbuckets - nbuckets / factor;
		last = this;
		this = next;
	}
	return base;
}

static notrace void dtrace_agg_llquantize(u64 *llq, u64 nval, u64 incr)
{
	u64 arg = *llq++;

	llq[dtrace_llquantize_bucket(DTRACE_LLQUANTIZE_FACTOR(arg),
				     DTRACE_LLQUANTIZE_LOW(arg),
				     DTRACE_LLQUANTIZE_HIGH(arg),
				     DTRACE_LLQUANTIZE_NSTEPS(arg),
				     (s64)nval)] += incr;
}

/* v[2..3] += |nval|^2, 128 bits (low word first). */
static notrace void dtrace_agg_sumsq(u64 *v, u64 nval)
{
	u64 a = (s64)nval < 0 ? -nval : nval;
	u64 lo32 = a & 0xffffffffULL, hi32 = a >> 32;
	u64 ll = lo32 * lo32, lh = lo32 * hi32, hh = hi32 * hi32;
	u64 lo, hi, mid;

	/* a^2 = hh << 64 + 2 * lh << 32 + ll */
	mid = lh << 33;
	lo = ll + mid;
	hi = hh + (lh >> 31) + (lo < ll);
	v[2] += lo;
	v[3] += hi + (v[2] < lo);
}

static notrace void dtrace_agg_apply(const struct dtrace_action *act, u64 *v,
				     u64 expr, u64 arg)
{
	u64 incr = act->hasarg ? arg : 1;

	switch (act->kind) {
	case DTRACEAGG_COUNT:
		v[0]++;
		break;
	case DTRACEAGG_SUM:
		v[0] += expr;
		break;
	case DTRACEAGG_MIN:
		if ((s64)expr < (s64)v[0])
			v[0] = expr;
		break;
	case DTRACEAGG_MAX:
		if ((s64)expr > (s64)v[0])
			v[0] = expr;
		break;
	case DTRACEAGG_AVG:
		v[0]++;
		v[1] += expr;
		break;
	case DTRACEAGG_STDDEV:
		v[0]++;
		v[1] += expr;
		dtrace_agg_sumsq(v, expr);
		break;
	case DTRACEAGG_QUANTIZE:
		dtrace_agg_quantize(v, expr, incr);
		break;
	case DTRACEAGG_LQUANTIZE:
		dtrace_agg_lquantize(v, expr, incr);
		break;
	case DTRACEAGG_LLQUANTIZE:
		dtrace_agg_llquantize(v, expr, incr);
		break;
	default:
		WARN_ON_ONCE(1);
		break;
	}
}

/*
 * ---------------------------------------------------------------------------
 * Aggregating (probe context)
 * ---------------------------------------------------------------------------
 */
static inline notrace u32 *dtrace_agg_buckets(struct dtrace_aggbuf *ab)
{
	char *top = ab->data[ab->cur] + ab->size;

	return (u32 *)(top - ALIGN((u64)ab->nbuckets * sizeof(u32), 8));
}

static inline notrace struct dtrace_aggkey *
dtrace_agg_key(struct dtrace_aggbuf *ab, u32 n)
{
	return (struct dtrace_aggkey *)((char *)dtrace_agg_buckets(ab)) - n;
}

/* First aggregation after a switch: size and empty the hash. */
static notrace void dtrace_agg_hash_init(struct dtrace_aggbuf *ab)
{
	u32 nb = ab->size / 64;
	u32 *b;

	if (nb > 8 * DTRACE_AGGHASHSIZE_SLEW)
		nb -= DTRACE_AGGHASHSIZE_SLEW;
	if (!nb)
		nb = 1;
	ab->nbuckets = nb;
	b = dtrace_agg_buckets(ab);
	memset(b, 0, (u64)nb * sizeof(u32));
	ab->free = (char *)b - ab->data[ab->cur];
	ab->offset = 0;
	ab->lastkey = 0;
}

/*
 * The key records are hashed and compared a word at a time (a byte loop
 * cost ~17 instructions a byte), over the words and masks that
 * dtrace_clause_aggkeys() precomputed.  A string record ends at its first
 * NUL: the bytes after it are not the key's (dtrace_store() leaves them as
 * they were), so the word holding the NUL is masked past it, and the rest
 * of the record is not read.
 */
#define DTRACE_AGG_ONES		0x0101010101010101ULL
#define DTRACE_AGG_HIGHS	0x8080808080808080ULL

/*
 * Word j of key k's record at data, masked to the record's bytes; a
 * string's word holding its NUL is masked past it and sets *end.
 */
static __always_inline u64 dtrace_agg_kword(const struct dtrace_action *k,
					    const u8 *data, u32 j, bool *end)
{
	u64 m = j ? ~0ULL : k->kmask0;
	u64 w, s, z;

	if (j == k->kwords - 1)
		m &= k->kmaskn;
	w = get_unaligned((const u64 *)(data + k->kwoff) + j) & m;
	if (!k->string)
		return w;
	/* other records' bytes in the word are not NULs of this string */
	s = w | ~m;
	z = (s - DTRACE_AGG_ONES) & ~s & DTRACE_AGG_HIGHS;
	if (!z)
		return w;
	*end = true;
	/* the lowest flagged byte is the first NUL (little-endian) */
	return w & ((z & -z) - 1) >> 7;
}

static inline notrace u64 dtrace_agg_mix(u64 h, u64 w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static notrace u32 dtrace_agg_hash(const struct dtrace_action *act,
				   const u8 *data)
{
	const struct dtrace_action *k;
	u64 hash = 0;
	u32 j;
	bool end;

	for (k = act->first; k < act; k++) {
		end = false;
		for (j = 0; j < k->kwords && !end; j++)
			hash = dtrace_agg_mix(hash,
					      dtrace_agg_kword(k, data, j, &end));
	}
	return (u32)(hash ^ (hash >> 32));
}

/*
 * Are the keys at data those of the stored record kdata?  A stored key is
 * its bytes up to each string's NUL and zeros elsewhere (the new-key path
 * of dtrace_aggregate()), so only data's words need the NUL search.
 */
static __always_inline bool dtrace_agg_match(const struct dtrace_action *act,
					     const u8 *data, const u8 *kdata)
{
	const struct dtrace_action *k;
	u64 m, kw;
	u32 j, n;
	bool end;

	for (k = act->first; k < act; k++) {
		end = false;
		n = k->kwords;
		for (j = 0; j < n && !end; j++) {
			m = j ? ~0ULL : k->kmask0;
			if (j == n - 1)
				m &= k->kmaskn;
			kw = get_unaligned((const u64 *)(kdata + k->kwoff) + j);
			if (dtrace_agg_kword(k, data, j, &end) != (kw & m))
				return false;
		}
	}
	return true;
}

/* dtrace_aggregate() when the last hit's key is not the one: the hash. */
static noinline notrace void
dtrace_aggregate_lookup(const struct dtrace_ecb *ecb,
			const struct dtrace_action *act,
			struct dtrace_aggbuf *ab, const char *rec,
			u64 expr, u64 arg, struct dif_mstate *ms)
{
	const u8 *data = (const u8 *)rec + act->aggbase;
	u32 size = act->rec.dtrd_offset - act->aggbase;
	u32 fsize = size + act->rec.dtrd_size;
	const struct dtrace_action *k;
	struct dtrace_aggkey *key;
	u32 hash, ndx, kn, *buckets;
	char *tomax = ab->data[ab->cur];
	u64 offs, *val;
	u8 *kdata;

	if (!ab->nbuckets)
		dtrace_agg_hash_init(ab);
	buckets = dtrace_agg_buckets(ab);
	hash = dtrace_agg_hash(act, data);
	ndx = hash % ab->nbuckets;

	for (kn = buckets[ndx]; kn; kn = key->next) {
		key = dtrace_agg_key(ab, kn);
		if (key->hashval != hash || key->size != size)
			continue;
		kdata = (u8 *)tomax + key->data;
		if (!dtrace_agg_match(act, data, kdata))
			continue;
		if (key->kind != act->kind) {
			ms->flags |= DIF_F_ILLOP;
			ms->illval = act->kind;
			return;
		}
		ab->lastkey = kn;
		dtrace_agg_apply(act, (u64 *)(kdata + size), expr, arg);
		return;
	}

	/* A new key. */
	offs = ALIGN(ab->offset, sizeof(u64));
	if (offs + fsize + sizeof(*key) > ab->free) {
		ab->drops++;
		return;
	}
	for (; ab->offset < offs; ab->offset += sizeof(u32))
		*(u32 *)(tomax + ab->offset) = DTRACE_AGGIDNONE;
	kn = (ab->size - ab->free -
	      ALIGN((u64)ab->nbuckets * sizeof(u32), 8)) / sizeof(*key) + 1;
	ab->free -= sizeof(*key);
	key = dtrace_agg_key(ab, kn);
	WARN_ON_ONCE((char *)key != tomax + ab->free);

	kdata = (u8 *)tomax + offs;
	memset(kdata, 0, fsize);
	*(u32 *)kdata = ecb->aggid + act->aggidx;
	for (k = act->first; k < act; k++) {
		u32 o = k->rec.dtrd_offset - act->aggbase;
		u32 n = k->rec.dtrd_size;

		/* A string key is not padded past its NUL (dtrace_store()). */
		if (k->string && n)
			n = strnlen((const char *)data + o, n - 1) + 1;
		memcpy(kdata + o, data + o, n);
	}
	val = (u64 *)(kdata + size);
	val[0] = act->agginit;
	key->hashval = hash;
	key->size = size;
	key->kind = act->kind;
	key->pad = 0;
	key->data = offs;
	key->next = buckets[ndx];
	buckets[ndx] = kn;
	ab->lastkey = kn;
	ab->offset = offs + fsize;
	dtrace_agg_apply(act, val, expr, arg);
}
NOKPROBE_SYMBOL(dtrace_aggregate_lookup);

/*
 * Aggregate expr (increment arg) under the keys at rec + the action's
 * base, into this CPU's buffer ab.  A full buffer counts a drop; the same
 * keys under another aggregating function fault ILLOP.
 *
 * The key of the last hit is tried first: a stored key is unique (by size
 * and bytes), so when it matches it is the one the hash would find.
 */
notrace void dtrace_aggregate(const struct dtrace_ecb *ecb,
			      const struct dtrace_action *act,
			      struct dtrace_aggbuf *ab, const char *rec,
			      u64 expr, u64 arg, struct dif_mstate *ms)
{
	u32 size = act->rec.dtrd_offset - act->aggbase;
	const struct dtrace_aggkey *key;
	u8 *kdata;
	u64 *val;

	if (ab->nbuckets && ab->lastkey) {
		key = dtrace_agg_key(ab, ab->lastkey);
		kdata = (u8 *)ab->data[ab->cur] + key->data;
		if (key->size == size && key->kind == act->kind &&
		    dtrace_agg_match(act, (const u8 *)rec + act->aggbase,
				     kdata)) {
			val = (u64 *)(kdata + size);
			if (act->kind == DTRACEAGG_COUNT)
				val[0]++;
			else
				dtrace_agg_apply(act, val, expr, arg);
			return;
		}
	}
	dtrace_aggregate_lookup(ecb, act, ab, rec, expr, arg, ms);
}
NOKPROBE_SYMBOL(dtrace_aggregate);

/*
 * ---------------------------------------------------------------------------
 * Process context: actions, buffers, ioctls
 * ---------------------------------------------------------------------------
 */

/*
 * Check aggregating action ad (kind, DIFO, parameters) and fill in its
 * initial value word; *size is its value size.  0, or -EINVAL.
 */
int dtrace_agg_action(struct dtrace_action *act,
		      const struct dtrace_actdesc *ad, u32 *size)
{
	const struct dif_object *dp = act->difo;
	u64 arg = ad->ad_arg, v;
	u16 factor, low, high, nsteps;
	u32 i;

	if (ad->ad_kind != DTRACEAGG_COUNT) {
		if (!dp || dp->rtype.dtdt_kind != DIF_TYPE_KIND_CTF ||
		    (dp->rtype.dtdt_flags & (DIF_TF_BYREF | DIF_TF_BYUREF)))
			return -EINVAL;
	}
	act->agginit = 0;
	/* count() ignores its value: the compiler's constant 1 need not run */
	act->aggnoeval = ad->ad_kind == DTRACEAGG_COUNT && dp &&
			 dtrace_difo_const(dp, &v);
	switch (ad->ad_kind) {
	case DTRACEAGG_COUNT:
	case DTRACEAGG_SUM:
		*size = sizeof(u64);
		break;
	case DTRACEAGG_MIN:
		act->agginit = S64_MAX;
		*size = sizeof(u64);
		break;
	case DTRACEAGG_MAX:
		act->agginit = (u64)S64_MIN;
		*size = sizeof(u64);
		break;
	case DTRACEAGG_AVG:
		*size = 2 * sizeof(u64);
		break;
	case DTRACEAGG_STDDEV:
		*size = 4 * sizeof(u64);
		break;
	case DTRACEAGG_QUANTIZE:
		*size = DTRACE_QUANTIZE_NBUCKETS * sizeof(u64);
		break;
	case DTRACEAGG_LQUANTIZE:
		if (!DTRACE_LQUANTIZE_STEP(arg) ||
		    !DTRACE_LQUANTIZE_LEVELS(arg))
			return -EINVAL;
		act->agginit = arg;
		*size = (DTRACE_LQUANTIZE_LEVELS(arg) + 3) * sizeof(u64);
		break;
	case DTRACEAGG_LLQUANTIZE:
		factor = DTRACE_LLQUANTIZE_FACTOR(arg);
		low = DTRACE_LLQUANTIZE_LOW(arg);
		high = DTRACE_LLQUANTIZE_HIGH(arg);
		nsteps = DTRACE_LLQUANTIZE_NSTEPS(arg);
		if (factor < 2 || low >= high || nsteps < factor)
			return -EINVAL;
		/* nsteps divides a power of factor; factor divides nsteps */
		for (v = factor; v < nsteps; v *= factor)
			;
		if ((v % nsteps) || (nsteps % factor))
			return -EINVAL;
		/* factor^(high + 1) must fit: bounds the bucket loop */
		for (v = 1, i = 0; i <= high; i++) {
			if (v > S64_MAX / factor)
				return -EINVAL;
			v *= factor;
		}
		act->agginit = arg;
		*size = (dtrace_llquantize_bucket(factor, low, high, nsteps,
						  S64_MAX) + 2) * sizeof(u64);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

void dtrace_aggbufs_free(struct dtrace_state *state)
{
	struct dtrace_aggbuf *abufs = state->aggbufs;
	unsigned int cpu;

	if (!abufs)
		return;
	for_each_possible_cpu(cpu) {
		dtrace_free(abufs[cpu].data[0]);
		dtrace_free(abufs[cpu].data[1]);
	}
	dtrace_free(abufs);
	state->aggbufs = NULL;
}

/*
 * At GO, when the consumer has aggregations: both halves for every
 * possible CPU, aggsize bytes each (default 4m); with bufresize=auto a
 * failure halves the size.  The size obtained becomes the option's value.
 */
int dtrace_aggbufs_alloc(struct dtrace_state *state)
{
	bool manual = state->options[DTRACEOPT_BUFRESIZE] == 1;
	s64 opt = state->options[DTRACEOPT_AGGSIZE];
	u64 want = opt == DTRACEOPT_UNSET ? DTRACE_DEFAULT_AGGSIZE : opt;
	u64 limit = dtrace_size_limit(2ULL * num_possible_cpus());
	struct dtrace_aggbuf *abufs;
	unsigned int cpu;
	bool ok;

	lockdep_assert_held(&state->lock);
	if (!state->naggs) {
		/* No aggregation buffers: none lowered (as DTrace says). */
		if (opt != DTRACEOPT_UNSET)
			state->options[DTRACEOPT_AGGSIZE] = 0;
		return 0;
	}
	if (WARN_ON_ONCE(state->aggbufs))
		return -EBUSY;
	want &= ~7ULL;
	if (want < DTRACE_MIN_AGGSIZE)
		return -ENOSPC;
	while (want > limit && !manual)
		want = (want / 2) & ~7ULL;
	if (want > limit || want < DTRACE_MIN_AGGSIZE)
		return -ENOMEM;
	abufs = dtrace_zalloc(array_size(nr_cpu_ids, sizeof(*abufs)));
	if (!abufs)
		return -ENOMEM;
	state->aggbufs = abufs;
	for (;;) {
		ok = true;
		for_each_possible_cpu(cpu) {
			abufs[cpu].data[0] = dtrace_zalloc_nowarn(want);
			abufs[cpu].data[1] = dtrace_zalloc_nowarn(want);
			if (!abufs[cpu].data[0] || !abufs[cpu].data[1]) {
				ok = false;
				break;
			}
		}
		if (ok)
			break;
		for_each_possible_cpu(cpu) {
			dtrace_free(abufs[cpu].data[0]);
			dtrace_free(abufs[cpu].data[1]);
			abufs[cpu].data[0] = NULL;
			abufs[cpu].data[1] = NULL;
		}
		want = (want / 2) & ~7ULL;
		if (manual || want < DTRACE_MIN_AGGSIZE) {
			dtrace_aggbufs_free(state);
			return -ENOMEM;
		}
	}
	for_each_possible_cpu(cpu)
		abufs[cpu].size = want;
	state->options[DTRACEOPT_AGGSIZE] = want;
	return 0;
}

/* Runs on the buffer's CPU with interrupts disabled. */
static notrace void dtrace_aggbuf_switch(void *arg)
{
	struct dtrace_aggbuf *ab = arg;

	ab->xamot_offset = ab->offset;
	ab->xamot_drops = ab->drops;
	ab->offset = 0;
	ab->drops = 0;
	ab->nbuckets = 0;
	ab->cur ^= 1;
	ab->switched = ktime_get_mono_fast_ns();
}
NOKPROBE_SYMBOL(dtrace_aggbuf_switch);

/*
 * DTRACEIOC_AGGSNAP: as DTRACEIOC_BUFSNAP (the capacity must hold a whole
 * half, else ENOSPC with dtbd_size the size needed).  ENOENT when the
 * consumer has no aggregation buffers (no aggregations, or before GO).
 */
int dtrace_agg_snapshot(struct dtrace_state *state,
			struct dtrace_bufdesc *desc)
{
	struct dtrace_aggbuf *ab;
	u32 cpu = desc->dtbd_cpu;

	lockdep_assert_held(&state->lock);
	if (cpu >= nr_cpu_ids || !cpu_possible(cpu))
		return -EINVAL;
	if (!state->aggbufs)
		return -ENOENT;
	ab = &state->aggbufs[cpu];
	if (desc->dtbd_size < ab->size) {
		desc->dtbd_size = ab->size;
		return -ENOSPC;
	}
	if (!READ_ONCE(ab->offset) && !READ_ONCE(ab->drops) &&
	    !READ_ONCE(ab->nbuckets)) {
		/* Nothing aggregated since the last switch: no IPI. */
		return dtrace_snap_copyout(desc, NULL, 0, 0, 0, 0,
					   ktime_get_mono_fast_ns());
	}
	if (smp_call_function_single(cpu, dtrace_aggbuf_switch, ab, 1))
		return -ENOENT;		/* offline */
	return dtrace_snap_copyout(desc, ab->data[ab->cur ^ 1],
				   ab->xamot_offset, 0, 0, ab->xamot_drops,
				   ab->switched);
}

/* DTRACEIOC_AGGDESC: the keys (not the argument), then the value. */
int dtrace_agg_describe(struct dtrace_state *state, struct dtrace_aggdesc *ad)
{
	const struct dtrace_action *act, *k;
	struct dtrace_recdesc __user *urecs;
	struct dtrace_recdesc rec;
	u32 n = 0;
	int err = 0;

	mutex_lock(&state->lock);
	if (ad->dtagd_id == DTRACE_AGGIDNONE || ad->dtagd_id > state->naggs) {
		err = -EINVAL;
		goto out;
	}
	act = state->aggs[ad->dtagd_id - 1].act;
	urecs = u64_to_user_ptr(ad->dtagd_recs);
	for (k = act->first; k <= act; k++) {
		if (k == act - 1 && act->hasarg)
			continue;
		rec = k->rec;
		rec.dtrd_offset -= act->aggbase;
		if (n < ad->dtagd_nrecs &&
		    copy_to_user(&urecs[n], &rec, sizeof(rec))) {
			err = -EFAULT;
			goto out;
		}
		n++;
	}
	ad->dtagd_epid = state->aggs[ad->dtagd_id - 1].ecb->epid;
	ad->dtagd_size = act->rec.dtrd_offset + act->rec.dtrd_size -
			 act->aggbase;
	ad->dtagd_nrecs = n;
out:
	mutex_unlock(&state->lock);
	return err;
}

/* The consumers file: both halves of every CPU's buffer (state->lock). */
u64 dtrace_aggbufs_bytes(const struct dtrace_state *state, u64 *meta)
{
	const struct dtrace_aggbuf *ab;
	unsigned int cpu;
	u64 bytes = 0;

	if (!state->aggbufs)
		return 0;
	*meta += (u64)nr_cpu_ids * sizeof(*state->aggbufs);
	for_each_possible_cpu(cpu) {
		ab = &state->aggbufs[cpu];
		bytes += (ab->data[0] ? ab->size : 0) +
			 (ab->data[1] ? ab->size : 0);
	}
	return bytes;
}
