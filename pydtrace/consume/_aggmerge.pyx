# cython: language_level=3, boundscheck=False, wraparound=False
"""Hot path of the aggregation consumer: merge one CPU's aggregation-buffer
snapshot into the user-side table.

The pure-Python twin is ``aggregate.py_merge``, used when this extension is
not built; the unit tests check they agree.
"""

from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.string cimport memcpy

# aggregate.MERGE_* (the twin test compares the two merges on every mode)
cdef enum:
    MERGE_ADD_PARAM = 1
    MERGE_MIN = 2
    MERGE_MAX = 3


def merge(bytes data, layout_of, dict table, new_entry):
    """Merge one aggregation-buffer snapshot into table; the records merged.

    layout_of(aggid) -> (size, key spans, value offset, value words, mode);
    new_entry(aggid, key, words) makes a table entry with a ``words`` list.
    """
    cdef const unsigned char *p = data
    cdef Py_ssize_t n = len(data)
    cdef Py_ssize_t off = 0
    cdef Py_ssize_t size, valoff, nwords, i, first
    cdef Py_ssize_t count = 0
    cdef uint32_t aggid = 0
    cdef int64_t v = 0, cur = 0
    cdef int mode
    cdef list words
    while off + 4 <= n:
        memcpy(&aggid, p + off, 4)
        if aggid == 0:
            off += 4
            continue
        size, spans, valoff, nwords, mode = layout_of(aggid)
        if size < 4 or off + size > n or valoff + 8 * nwords > size:
            raise ValueError(
                f"aggregation {aggid} at offset {off}: record of {size} bytes "
                "overruns the buffer"
            )
        key = tuple([data[off + o : off + o + s] for o, s in spans])
        entry = table.get(key)
        if entry is None:
            words = []
            for i in range(nwords):
                memcpy(&v, p + off + valoff + 8 * i, 8)
                words.append(v)
            table[key] = new_entry(aggid, key, words)
        else:
            words = entry.words
            if mode == MERGE_MIN or mode == MERGE_MAX:
                memcpy(&v, p + off + valoff, 8)
                cur = words[0]
                if (mode == MERGE_MIN and v < cur) or (mode == MERGE_MAX and v > cur):
                    words[0] = v
            else:
                first = 1 if mode == MERGE_ADD_PARAM else 0
                for i in range(first, nwords):
                    memcpy(&v, p + off + valoff + 8 * i, 8)
                    cur = words[i]
                    # wrap-around addition, as the C consumer's
                    words[i] = <int64_t>(<uint64_t>cur + <uint64_t>v)
        off += size
        count += 1
    return count
