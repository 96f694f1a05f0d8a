# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The consumer's drain loop: walk a principal-buffer snapshot and render
the records of planned EPIDs (consume.fastpath) into one output chunk.

A plan is the list of steps one EPID's record prints: literal text, an
integer through the C library's snprintf (the conversions printf.py
reproduces), a string or a character with its padding, or a Python
function for anything else.  ``render`` stops at the first record it does
not render (no plan, a plan step that raised, a record that overruns the
buffer) and hands it back: the Python printer prints that one record,
reporting any fault as it always does, and calls again after it.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem
from cpython.ref cimport PyObject
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdio cimport snprintf
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memchr, memcpy, memset

# step kinds (consume.fastpath builds them)
DEF K_LIT = 0
DEF K_INT = 1
DEF K_STR = 2
DEF K_CHAR = 3
DEF K_PY1 = 4
DEF K_PYREC = 5

OP_LIT, OP_INT, OP_STR, OP_CHAR, OP_PY1, OP_PYREC = K_LIT, K_INT, K_STR, K_CHAR, K_PY1, K_PYREC

# render()'s reasons for returning
DONE, SLOW, FULL = 0, 1, 2


cdef struct step_t:
    int kind
    Py_ssize_t off      # the argument record's offset in the ECB record
    Py_ssize_t size     # and its size
    int sign            # K_INT: read it signed
    int left            # K_STR, K_CHAR: the '-' flag
    Py_ssize_t width    # K_STR, K_CHAR: -1 = none
    Py_ssize_t prec     # K_STR: -1 = none
    char spec[40]       # K_INT: the snprintf conversion
    int plain           # K_INT: 1 = the spec is %lld, 2 = %llu (no snprintf)
    PyObject *obj       # K_LIT: bytes; K_PY1, K_PYREC: the function


cdef class Plan:
    """How one EPID's records print: its record size and steps.

    steps: tuples (kind, off, size, sign, left, width, prec, spec, obj);
    unused fields 0 / None."""

    cdef step_t *steps
    cdef Py_ssize_t nsteps
    cdef readonly Py_ssize_t size
    cdef list _keep

    def __cinit__(self, Py_ssize_t size, list steps):
        cdef step_t *s
        cdef bytes spec
        self.size = size
        self._keep = []
        self.nsteps = len(steps)
        self.steps = <step_t *>malloc(max(self.nsteps, 1) * sizeof(step_t))
        if self.steps == NULL:
            raise MemoryError()
        for i, t in enumerate(steps):
            kind, off, rsize, sign, left, width, prec, spec, obj = t
            s = &self.steps[i]
            memset(s, 0, sizeof(step_t))
            s.kind = kind
            s.off = off
            s.size = rsize
            s.sign = sign
            s.left = left
            s.width = width
            s.prec = prec
            if kind == K_INT:
                if len(spec) >= 40:
                    raise ValueError("conversion too long")
                memcpy(s.spec, PyBytes_AS_STRING(spec), len(spec))
                s.plain = 1 if spec == b"%lld" else 2 if spec == b"%llu" else 0
            if kind == K_LIT and not isinstance(obj, bytes):
                raise TypeError("a literal step needs bytes")
            if kind in (K_INT, K_STR, K_CHAR, K_PY1) and (off < 0 or off + rsize > size):
                raise ValueError("a step's record lies outside the ECB record")
            if kind in (K_INT, K_CHAR) and rsize not in (1, 2, 4, 8):
                raise ValueError("an integer step needs 1, 2, 4 or 8 bytes")
            self._keep.append(obj)
            s.obj = <PyObject *>obj

    def __dealloc__(self):
        free(self.steps)


cdef struct outbuf_t:
    char *p
    Py_ssize_t n
    Py_ssize_t cap


cdef int ob_reserve(outbuf_t *o, Py_ssize_t more) except -1:
    cdef Py_ssize_t cap
    cdef char *p
    if o.n + more <= o.cap:
        return 0
    cap = max(o.cap * 2, o.n + more + 4096)
    p = <char *>realloc(o.p, cap)
    if p == NULL:
        raise MemoryError()
    o.p = p
    o.cap = cap
    return 0


cdef inline int ob_put(outbuf_t *o, const char *s, Py_ssize_t n) except -1:
    if o.n + n > o.cap:
        ob_reserve(o, n)
    memcpy(o.p + o.n, s, n)
    o.n += n
    return 0


cdef int ob_padded(outbuf_t *o, const char *s, Py_ssize_t n, Py_ssize_t width,
                   int left) except -1:
    """s padded with spaces to width (C's %s and %c)."""
    cdef Py_ssize_t pad = width - n if width > n else 0
    ob_reserve(o, n + pad)
    if pad and not left:
        memset(o.p + o.n, 32, pad)
        o.n += pad
    memcpy(o.p + o.n, s, n)
    o.n += n
    if pad and left:
        memset(o.p + o.n, 32, pad)
        o.n += pad
    return 0


cdef int ob_decimal(outbuf_t *o, uint64_t v, int neg) except -1:
    """%llu of v, with a '-' first if neg (v is then the magnitude)."""
    cdef char tmp[24]
    cdef int i = 24
    while True:
        i -= 1
        tmp[i] = <char>(48 + v % 10)
        v //= 10
        if v == 0:
            break
    if neg:
        i -= 1
        tmp[i] = 45
    return ob_put(o, &tmp[i], 24 - i)


cdef inline uint64_t read_int(const unsigned char *p, Py_ssize_t size, int sign) noexcept:
    cdef uint8_t u8
    cdef uint16_t u16
    cdef uint32_t u32
    cdef uint64_t u64
    if size == 8:
        memcpy(&u64, p, 8)
        return u64
    if size == 4:
        memcpy(&u32, p, 4)
        return <uint64_t><int64_t><int32_t>u32 if sign else u32
    if size == 2:
        memcpy(&u16, p, 2)
        return <uint64_t><int64_t><int16_t>u16 if sign else u16
    u8 = p[0]
    return <uint64_t><int64_t><int8_t>u8 if sign else u8


cdef int run_step(outbuf_t *o, step_t *s, const unsigned char *rec, object data,
                  Py_ssize_t recoff) except -1:
    cdef uint64_t v
    cdef int n
    cdef Py_ssize_t len_
    cdef const void *nul
    cdef char ch
    cdef object r
    if s.kind == K_LIT:
        ob_put(o, PyBytes_AS_STRING(<bytes>s.obj), PyBytes_GET_SIZE(<bytes>s.obj))
    elif s.kind == K_INT:
        v = read_int(rec + s.off, s.size, s.sign)
        if s.plain == 2 or (s.plain == 1 and <int64_t>v >= 0):
            return ob_decimal(o, v, 0)
        if s.plain == 1:
            return ob_decimal(o, (~v) + 1, 1)  # the magnitude, also of INT64_MIN
        ob_reserve(o, 64)
        n = snprintf(o.p + o.n, 64, s.spec, <long long>v)
        if n < 0:
            raise ValueError("snprintf failed")
        if n >= 64:  # a wide field: again with room for it
            ob_reserve(o, n + 1)
            snprintf(o.p + o.n, n + 1, s.spec, <long long>v)
        o.n += n
    elif s.kind == K_STR:
        nul = memchr(rec + s.off, 0, s.size)
        len_ = s.size if nul == NULL else <const unsigned char *>nul - (rec + s.off)
        if s.prec >= 0 and len_ > s.prec:
            len_ = s.prec
        ob_padded(o, <const char *>(rec + s.off), len_, s.width, s.left)
    elif s.kind == K_CHAR:
        ch = <char>(read_int(rec + s.off, s.size, 0) & 0xFF)
        ob_padded(o, &ch, 1, s.width, s.left)
    elif s.kind == K_PY1:
        r = (<object>s.obj)(data[recoff + s.off:recoff + s.off + s.size])
        ob_put(o, PyBytes_AS_STRING(<bytes?>r), PyBytes_GET_SIZE(r))
    else:
        r = (<object>s.obj)(data, recoff)
        ob_put(o, PyBytes_AS_STRING(<bytes?>r), PyBytes_GET_SIZE(r))
    return 0


def render(bytes data, Py_ssize_t start, Py_ssize_t end, dict plans, Py_ssize_t limit):
    """Render the records of data[start:end] while their EPIDs have a plan
    (plans: EPID -> Plan, or None for "print it the slow way").

    Returns (output, offset, reason, count): the bytes printed, where it
    stopped, and why: DONE (the end), SLOW (the record at offset needs the
    Python printer) or FULL (the output reached limit bytes); count is the
    number of records rendered.  EPID 0 is 4 bytes of padding."""
    cdef const unsigned char *buf = <const unsigned char *>PyBytes_AS_STRING(data)
    cdef Py_ssize_t off = start
    cdef Py_ssize_t mark, i, count = 0
    cdef uint32_t epid, last_epid = 0
    cdef Plan plan = None
    cdef PyObject *found
    cdef outbuf_t o
    cdef int reason = DONE
    if end > PyBytes_GET_SIZE(data):
        end = PyBytes_GET_SIZE(data)
    o.p = NULL
    o.n = 0
    o.cap = 0
    try:
        while off + 4 <= end:
            memcpy(&epid, buf + off, 4)
            if epid == 0:
                off += 4
                continue
            if epid != last_epid or plan is None:
                found = PyDict_GetItem(plans, epid)
                if found == NULL or <object>found is None:
                    reason = SLOW
                    break
                plan = <Plan>found
                last_epid = epid
            if off + plan.size > end:
                reason = SLOW  # the Python walker reports the overrun
                break
            mark = o.n
            try:
                for i in range(plan.nsteps):
                    run_step(&o, &plan.steps[i], buf + off, data, off)
            except Exception:
                o.n = mark  # the Python printer reports the fault
                reason = SLOW
                break
            off += plan.size
            count += 1
            if o.n >= limit:
                reason = FULL if off + 4 <= end else DONE
                break
        if reason == DONE and off + 4 > end:
            off = end
        return (PyBytes_FromStringAndSize(o.p, o.n) if o.n else b"", off, reason, count)
    finally:
        free(o.p)
