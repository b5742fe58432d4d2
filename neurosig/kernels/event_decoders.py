"""Numba loops that decode and encode event-camera words (EVT 2.0, EVT 3.0, DAT, N-MNIST .bin).

Every decoder has one signature so that one Python wrapper (:mod:`neurosig.io.events._words`) drives
them all::

    kernel(words, start, state, events, n, triggers, n_trig, width, height, strict, counts)
        -> (next_word, n, n_trig, status, category)

``words`` is a view of the file's payload (one row per word), ``start`` the first word to decode,
``state`` an int64 array that carries the decoder's state from one block to the next, ``events`` a
preallocated EVENTS_DTYPE array filled from index ``n`` on, ``triggers`` the same for trigger words
(TRIGGER_DTYPE). Records are written field by field through the structured array (faster than four
strided field views), except in EVT 2.0's vector block (:func:`_cd_block`), which stores whole records.
Decoding stops at the end of ``words`` (:data:`DONE`), when an output is full (:data:`EVENTS_FULL`,
:data:`TRIGGERS_FULL`: grow it and call again from ``next_word``), or in strict mode at the first
corrupt word (:data:`CORRUPT`, with ``next_word`` its index and ``category`` one of the ``BAD_*``
codes). In lenient mode a corrupt word is skipped and ``counts[category]`` incremented;
``counts[VENDOR]`` counts legitimate words that carry no event (OTHERS, CONTINUED).
"""

from __future__ import annotations

import sys

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from neurosig.dtypes import EVENTS_DTYPE
from neurosig.kernels._llvm import const, splat
from neurosig.kernels._numba import host_has, njit

__all__ = [
    "DONE",
    "EVENTS_FULL",
    "TRIGGERS_FULL",
    "CORRUPT",
    "BAD_WORD_TYPE",
    "BAD_NO_TIME_BASE",
    "BAD_TIME_HIGH_BACK",
    "BAD_VECT_BASE",
    "BAD_OUTSIDE_SENSOR",
    "BAD_PARTIAL_VECTOR",
    "BAD_POLARITY",
    "VENDOR",
    "N_COUNTS",
    "MAX_EVENTS_PER_WORD",
    "decode_evt2",
    "decode_evt3",
    "decode_dat",
    "decode_nmnist",
    "prescan_evt2",
    "prescan_evt3",
    "encode_evt2",
    "encode_evt3",
]

DONE, EVENTS_FULL, TRIGGERS_FULL, CORRUPT = 0, 1, 2, 3

BAD_WORD_TYPE = 0  # a word type the format does not define
BAD_NO_TIME_BASE = 1  # an event or trigger before the first TIME_HIGH (or, in EVT3, before any ADDR_Y)
BAD_TIME_HIGH_BACK = 2  # TIME_HIGH stepped back by less than half its range: not a wrap
BAD_VECT_BASE = 3  # EVT3 vector with no VECT_BASE_X on this row, or a base outside the sensor
BAD_OUTSIDE_SENSOR = 4  # pixel outside the sensor size declared by the header
BAD_PARTIAL_VECTOR = 5  # EVT3 vector whose valid bits run past the sensor width
BAD_POLARITY = 6  # DAT polarity other than 0 or 1
VENDOR = 7  # legitimate words without events (OTHERS, CONTINUED_4, CONTINUED_12): not corruption
N_COUNTS = 8

#: Most events one word can yield (EVT 3.0 VECT_12).
MAX_EVENTS_PER_WORD = 12

#: Index of the single set bit of a 12-bit power of two (the valid pixels of a VECT_12/VECT_8 mask).
_BIT_INDEX = np.zeros(1 << 12, np.int64)
_BIT_INDEX[1 << np.arange(12)] = np.arange(12)
_EVT2_TH_MASK = (1 << 28) - 1
_EVT2_TH_HALF = 1 << 27
_EVT3_TH_HALF = 1 << 11


@njit
def _advance_time_high(th, last, raw, bits):
    """New absolute time-high count and whether ``raw`` is valid (wrap only on a large step back)."""
    if last < 0:
        return raw, True
    if raw >= last:
        return th + raw - last, True
    if last - raw >= (1 << (bits - 1)):
        return th + raw + (1 << bits) - last, True
    return th, False


#: Words that :func:`_cd_block` decodes at once (8 x 32 bits: one AVX2 register; wider was slower).
_CD_BLOCK = 8

#: Whether :func:`_cd_block` may run: it writes the packed 13-byte record ``t`` (8 bytes), ``x``, ``y``
#: (2 each), ``p`` (1) as little-endian integers; with any other layout or byte order the scalar loop
#: decodes every word.
_VECTOR_RECORDS = (
    sys.byteorder == "little"
    and EVENTS_DTYPE.itemsize == 13
    and [EVENTS_DTYPE.fields[f][1] for f in "txyp"] == [0, 8, 10, 12]
)


@intrinsic
def _cd_block(typingctx, words_t, i_t, ev_t, n_t, base_t, width_t, height_t):  # pragma: no cover - compiled
    """Decode the 8 EVT 2.0 words ``words[i : i + 8]`` into ``ev[n : n + 8]`` when all of them are
    in-sensor CD events, and return whether they were (else nothing is written).

    One vector load, shifts and compares check and split the 8 words at once; each record is then
    written with one 16-byte store of ``(t, x | y << 16 | p << 32)`` at its packed offset, which spills
    3 bytes into the next record (rewritten by the next store; the caller keeps room for them:
    ``n + 9 <= len(ev)``). ``base`` is the time base ``time_high << 6``.
    """
    if not (isinstance(words_t, types.Array) and words_t.dtype == types.uint32 and words_t.layout == "C"):
        return None
    sig = types.boolean(words_t, types.uint64, ev_t, types.uint64, types.int64, types.int64, types.int64)

    def codegen(context, builder, signature, args):
        words, i, ev, n, base, width, height = args
        lanes = _CD_BLOCK
        i32, i64 = ir.IntType(32), ir.IntType(64)
        v32, v64, sel = ir.VectorType(i32, lanes), ir.VectorType(i64, lanes), ir.VectorType(i32, 2)

        data = context.make_array(signature.args[0])(context, builder, words).data
        w = builder.load(builder.bitcast(builder.gep(data, [i]), v32.as_pointer()), align=4)
        typ = builder.lshr(w, const(28, v32))
        x = builder.and_(builder.lshr(w, const(11, v32)), const(0x7FF, v32))
        y = builder.and_(w, const(0x7FF, v32))
        ok = builder.and_(
            builder.icmp_unsigned("<=", typ, const(1, v32)),
            builder.and_(
                builder.icmp_unsigned("<", x, splat(builder, builder.trunc(width, i32), v32)),
                builder.icmp_unsigned("<", y, splat(builder, builder.trunc(height, i32), v32)),
            ),
        )
        every = builder.icmp_unsigned(
            "==", builder.bitcast(ok, ir.IntType(lanes)), ir.Constant(ir.IntType(lanes), (1 << lanes) - 1)
        )
        with builder.if_then(every, likely=True):
            t = builder.or_(
                splat(builder, base, v64),
                builder.zext(builder.and_(builder.lshr(w, const(22, v32)), const(63, v32)), v64),
            )
            xyp = builder.or_(
                builder.or_(builder.zext(x, v64), builder.shl(builder.zext(y, v64), const(16, v64))),
                builder.shl(builder.zext(typ, v64), const(32, v64)),
            )
            out = builder.bitcast(
                context.make_array(signature.args[2])(context, builder, ev).data, ir.IntType(8).as_pointer()
            )
            start = builder.mul(n, ir.Constant(i64, 13))
            for j in range(lanes):
                record = builder.shuffle_vector(t, xyp, ir.Constant(sel, [j, lanes + j]))
                at = builder.gep(out, [builder.add(start, ir.Constant(i64, 13 * j))])
                builder.store(record, builder.bitcast(at, ir.VectorType(i64, 2).as_pointer()), align=1)
        return every

    return sig, codegen


#: EVT 3.0 words that :func:`_x_block` decodes at once.
_X_BLOCK = 8

#: Whether :func:`_x_block` may run: the packed records (:data:`_VECTOR_RECORDS`) and AVX-512BW, whose
#: byte-masked stores write each record's 13 bytes alone (other CPUs would emulate them byte by byte).
_X_BLOCKS = _VECTOR_RECORDS and host_has("avx512bw")


@intrinsic
def _x_block(typingctx, words_t, i_t, ev_t, n_t, t_t, y_t, width_t):  # pragma: no cover - compiled
    """Decode the run of in-sensor EVT 3.0 ADDR_X words that starts ``words[i : i + 8]`` into
    ``ev[n:]`` (all at time ``t`` on row ``y``) and return its length ``k`` (0 to 8).

    One vector load and two compares find the run (``cttz`` of the words that are not in it), so no
    branch depends on its length. Each of the 8 records is then written by one store of its 13 bytes
    under a byte mask that is empty past the run: ``ev[n : n + k]`` is written and nothing else (a
    split read's first part shares its array with the second part's events, just past its own).
    """
    if not (isinstance(words_t, types.Array) and words_t.dtype == types.uint16 and words_t.layout == "C"):
        return None
    sig = types.int64(words_t, types.uint64, ev_t, types.uint64, types.int64, types.int64, types.int64)

    def codegen(context, builder, signature, args):
        words, i, ev, n, t, y, width = args
        lanes = _X_BLOCK
        i1, i8, i16, i32, i64 = (ir.IntType(b) for b in (1, 8, 16, 32, 64))
        v16, v64 = ir.VectorType(i16, lanes), ir.VectorType(i64, lanes)
        record, flags = ir.VectorType(i64, 2), ir.VectorType(i1, 16)

        data = context.make_array(signature.args[0])(context, builder, words).data
        w = builder.load(builder.bitcast(builder.gep(data, [i]), v16.as_pointer()), align=2)
        x = builder.and_(w, const(0x7FF, v16))
        limit = splat(builder, builder.trunc(width, i16), v16)
        in_run = builder.and_(
            builder.icmp_unsigned("==", builder.lshr(w, const(12, v16)), const(2, v16)),
            builder.icmp_unsigned("<", x, limit),
        )
        outside = builder.xor(
            builder.zext(builder.bitcast(in_run, ir.IntType(lanes)), i32), ir.Constant(i32, 0x1FF)
        )
        cttz = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(i32, [i32, i1]), "llvm.cttz.i32"
        )
        run = builder.call(cttz, [outside, ir.Constant(i1, 0)])  # bit 8 is set: at most 8
        polarity = builder.and_(builder.lshr(w, const(11, v16)), const(1, v16))
        xp = builder.or_(builder.zext(x, v64), builder.shl(builder.zext(polarity, v64), const(32, v64)))
        row = builder.shl(y, ir.Constant(i64, 16))
        out = context.make_array(signature.args[2])(context, builder, ev).data
        out = builder.bitcast(out, i8.as_pointer())
        start = builder.mul(n, ir.Constant(i64, 13))
        store = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [ir.VectorType(i8, 16), ir.PointerType(), i32, flags]),
            "llvm.masked.store.v16i8.p0",
        )
        thirteen = ir.Constant(flags, [1] * 13 + [0] * 3)
        for j in range(lanes):
            fields = builder.insert_element(ir.Constant(record, ir.Undefined), t, ir.Constant(i32, 0))
            xyp = builder.or_(builder.extract_element(xp, ir.Constant(i32, j)), row)
            fields = builder.insert_element(fields, xyp, ir.Constant(i32, 1))
            inside = builder.icmp_unsigned("<", ir.Constant(i32, j), run)
            mask = builder.select(inside, thirteen, ir.Constant(flags, [0] * 16))
            at = builder.gep(out, [builder.add(start, ir.Constant(i64, 13 * j))])
            builder.call(
                store, [builder.bitcast(fields, ir.VectorType(i8, 16)), at, ir.Constant(i32, 1), mask]
            )
        return builder.zext(run, i64)

    return sig, codegen


@njit
def _evt2_run(words, i, ev, n, th, last, width, height):
    """The hot path: in-sensor CD events and forward TIME_HIGH steps, until any other word.

    Runs of 8 in-sensor CD words, most of a recording, are decoded at once by :func:`_cd_block`
    (vector compares and one store per record: about 3 cycles an event); the rest one word at a time,
    about 20 instructions a CD word: a word yields at most one event, so one bound (``stop``) covers
    both the words and the output's room, and unsigned indices spare Numba's negative-index wrap.
    """
    stop = min(words.shape[0], i + ev.shape[0] - n)
    base = th << 6
    while i < stop:
        if (
            _VECTOR_RECORDS
            and i + _CD_BLOCK < stop
            and _cd_block(words, np.uint64(i), ev, np.uint64(n), base, width, height)
        ):
            i += _CD_BLOCK
            n += _CD_BLOCK
            continue
        w = np.int64(words[np.uint64(i)])
        typ = w >> 28
        if typ <= 1:
            xx = (w >> 11) & 0x7FF
            yy = w & 0x7FF
            if xx >= width or yy >= height:
                break
            e = ev[np.uint64(n)]
            e["t"] = base | ((w >> 22) & 63)
            e["x"] = xx
            e["y"] = yy
            e["p"] = typ
            n += 1
        elif typ == 8 and (w & _EVT2_TH_MASK) >= last:
            th += (w & _EVT2_TH_MASK) - last
            last = w & _EVT2_TH_MASK
            base = th << 6
        else:
            break
        i += 1
    return i, n, th, last


@njit
def decode_evt2(words, start, state, ev, n, trig, n_trig, width, height, strict, counts):
    """Decode EVT 2.0 32-bit words; ``state = [time_high, last_raw_time_high (-1: none)]``."""
    th = state[0]
    last = state[1]
    cap = ev.shape[0]
    tcap = trig.shape[0]
    nw = words.shape[0]
    i = start
    status = DONE
    cat = -1
    while i < nw:
        if last >= 0:
            i, n, th, last = _evt2_run(words, i, ev, n, th, last, width, height)
            if i >= nw:
                break
        w = np.int64(words[i])
        typ = w >> 28
        cat = -1
        if typ <= 1:
            if last < 0:
                cat = BAD_NO_TIME_BASE
            else:
                xx = (w >> 11) & 0x7FF
                yy = w & 0x7FF
                if xx >= width or yy >= height:
                    cat = BAD_OUTSIDE_SENSOR
                else:
                    if n >= cap:
                        status = EVENTS_FULL
                        break
                    e = ev[n]
                    e["t"] = (th << 6) | ((w >> 22) & 63)
                    e["x"] = xx
                    e["y"] = yy
                    e["p"] = typ
                    n += 1
        elif typ == 8:
            raw = w & _EVT2_TH_MASK
            th, ok = _advance_time_high(th, last, raw, 28)
            if ok:
                last = raw
            else:
                cat = BAD_TIME_HIGH_BACK
        elif typ == 0xA:
            if last < 0:
                cat = BAD_NO_TIME_BASE
            else:
                if n_trig >= tcap:
                    status = TRIGGERS_FULL
                    break
                g = trig[n_trig]
                g["t"] = (th << 6) | ((w >> 22) & 63)
                g["id"] = (w >> 8) & 0x1F
                g["value"] = w & 1
                n_trig += 1
        elif typ == 0xE or typ == 0xF:
            counts[VENDOR] += 1
        else:
            cat = BAD_WORD_TYPE
        if cat >= 0:
            if strict:
                status = CORRUPT
                break
            counts[cat] += 1
        i += 1
    state[0] = th
    state[1] = last
    return i, n, n_trig, status, cat


@njit
def _evt3_run(words, i, ev, n, th, last, tl, cy, base, vp, width, height):
    """The hot path: well-formed events, rows, vectors and forward time words, until any other
    (unsigned indices: no negative-index wrap). Runs of ADDR_X words, two thirds of a recording's
    words, are decoded 8 words at a time by :func:`_x_block` where it may run (:data:`_X_BLOCKS`),
    which advances by the run's length without a branch on it (1.13-1.17x faster on the sample than
    the loop alone), and otherwise, or for what is left, in an inner loop that checks only for the
    run's end (1.05-1.06x faster than dispatching every word)."""
    nw = words.shape[0]
    cap = ev.shape[0] - MAX_EVENTS_PER_WORD
    while i < nw and n <= cap:
        w = np.int64(words[np.uint64(i)])
        typ = w >> 12
        if typ == 0x2:
            # a run of ADDR_X words shares its row and time: one loop, no type dispatch inside
            if cy < 0 or cy >= height:
                break
            t = (th << 12) | tl
            if _X_BLOCKS:
                while i + _X_BLOCK <= nw and n <= cap:
                    k = _x_block(words, np.uint64(i), ev, np.uint64(n), t, cy, width)
                    i += k
                    n += k
                    if k < _X_BLOCK:
                        break
                if i >= nw or n > cap:
                    return i, n, th, last, tl, cy, base, vp
                w = np.int64(words[np.uint64(i)])
                if w >> 12 != 0x2:
                    continue
            while True:
                xx = w & 0x7FF
                if xx >= width:
                    return i, n, th, last, tl, cy, base, vp
                e = ev[np.uint64(n)]
                e["t"] = t
                e["x"] = xx
                e["y"] = cy
                e["p"] = (w >> 11) & 1
                n += 1
                i += 1
                if i >= nw or n > cap:
                    return i, n, th, last, tl, cy, base, vp
                w = np.int64(words[np.uint64(i)])
                if w >> 12 != 0x2:
                    break
            continue
        elif typ == 0x0:
            cy = w & 0x7FF
            base = -1
        elif typ == 0x6:
            tl = w & 0xFFF
        elif typ == 0x4 or typ == 0x5:
            nbits = 12 if typ == 0x4 else 8
            mask = w & ((1 << nbits) - 1)
            if base < 0 or cy < 0 or cy >= height or base + nbits > width:
                break
            tt = (th << 12) | tl
            while mask:
                low = mask & -mask
                e = ev[np.uint64(n)]
                e["t"] = tt
                e["x"] = base + _BIT_INDEX[low]
                e["y"] = cy
                e["p"] = vp
                n += 1
                mask ^= low
            base += nbits
        elif typ == 0x3 and (w & 0x7FF) < width:
            base = w & 0x7FF
            vp = (w >> 11) & 1
        elif typ == 0x8 and (w & 0xFFF) >= last:
            th += (w & 0xFFF) - last
            last = w & 0xFFF
        else:
            break
        i += 1
    return i, n, th, last, tl, cy, base, vp


@njit
def _popcount12(m):
    """Set bits of a 12-bit mask, in arithmetic the compiler vectorises (no table lookups)."""
    m = m - ((m >> 1) & 0x555)
    m = (m & 0x333) + ((m >> 2) & 0x333)
    m = (m + (m >> 4)) & 0x0F0F
    return (m + (m >> 8)) & 0x1F


@njit
def _time_highs(words, stop, shift, mask, bits):
    """``(time_high, last_raw, index of the first TIME_HIGH or stop)`` after the TIME_HIGH words of
    ``words[:stop]``, from the initial state, as the decoder applies them (valid or not)."""
    th = np.int64(0)
    last = np.int64(-1)
    first = stop
    for k in range(stop):
        if words[k] >> shift == 8:
            raw = np.int64(words[k]) & mask
            th, ok = _advance_time_high(th, last, raw, bits)
            if ok:
                last = raw
            first = min(first, k)
    return th, last, first


@njit
def prescan_evt2(words, stop, width, height, state):
    """Pre-scan ``words[:stop]`` so that :func:`decode_evt2` can start at word ``stop`` in parallel.

    Fills ``state`` with the decoder's state at ``stop`` as it is in a well-formed file without a
    counter wrap before ``stop``: ``(raw, raw)`` of the last TIME_HIGH word before ``stop``, the
    initial state when there is none. (With a wrap, ``time_high - last_raw`` is 2**28 per wrap; after
    a TIME_HIGH that stepped back, ``last_raw`` is an earlier word's.) The caller checks this presumed
    state against the state that decoding ``words[:stop]`` ends with. Returns an upper bound of the
    events of ``words[:stop]``: its CD words (exact for a well-formed file). Cost: one vectorised
    count, and a walk back to the last TIME_HIGH word (one every few hundred words).
    """
    n_cd = 0
    for k in range(stop):
        n_cd += words[k] >> 28 <= 1
    k = stop - 1
    while k >= 0 and words[k] >> 28 != 8:
        k -= 1
    state[0] = np.int64(words[k]) & _EVT2_TH_MASK if k >= 0 else 0
    state[1] = state[0] if k >= 0 else -1
    return n_cd


@njit
def prescan_evt3(words, stop, width, height, state):
    """Pre-scan ``words[:stop]`` so that :func:`decode_evt3` can start at word ``stop`` in parallel.

    Fills ``state`` with the decoder's state at ``stop`` and returns an upper bound of the events that
    ``words[:stop]`` yield (ADDR_X words plus the set bits of VECT masks; exact for a well-formed file).
    The time base ``(time_high, last_raw)`` follows the TIME_HIGH words as in the decoder. One pass
    also notes where the latest TIME_LOW, ADDR_Y, VECT_BASE_X and in-sensor VECT_BASE_X words are (a
    running maximum of indices, without branches: the word types come in no predictable order). Then
    TIME_LOW, ``y`` and the vector polarity are those words' fields; the vector base is -1 after an
    ADDR_Y or an out-of-sensor VECT_BASE_X, else that VECT_BASE_X's ``x`` plus 12 or 8 for each VECT
    word since then that came after the first TIME_HIGH (before it the decoder rejects a vector
    without moving the base).
    """
    bound = 0
    for k in range(stop):  # (each pass on its own, so that it vectorises)
        w = np.int64(words[k])
        typ = w >> 12
        bound += (typ == 0x2) + _popcount12(w & (0xFFF if typ == 0x4 else (0xFF if typ == 0x5 else 0)))
    i_tl = i_y = i_base = i_valid = np.int64(-1)
    for k in range(stop):
        w = np.int64(words[k])
        typ = w >> 12
        i_tl = max(i_tl, k if typ == 0x6 else -1)
        i_y = max(i_y, k if typ == 0x0 else -1)
        i_base = max(i_base, k if typ == 0x3 else -1)
        i_valid = max(i_valid, k if typ == 0x3 and (w & 0x7FF) < width else -1)
    th, last, first_th = _time_highs(words, stop, 12, 0xFFF, 12)
    base = np.int64(-1)
    if i_base > i_y and i_base == i_valid:
        base = np.int64(words[i_base]) & 0x7FF
        for k in range(max(i_base, first_th) + 1, stop):
            typ = np.int64(words[k]) >> 12
            base += 12 if typ == 0x4 else (8 if typ == 0x5 else 0)
    state[0] = th
    state[1] = last
    state[2] = np.int64(words[i_tl]) & 0xFFF if i_tl >= 0 else 0
    state[3] = np.int64(words[i_y]) & 0x7FF if i_y >= 0 else -1
    state[4] = base
    state[5] = (np.int64(words[i_valid]) >> 11) & 1 if i_valid >= 0 else 0
    return bound


@njit
def decode_evt3(words, start, state, ev, n, trig, n_trig, width, height, strict, counts):
    """Decode EVT 3.0 16-bit words.

    ``state = [time_high, last_raw_time_high (-1), time_low, y (-1), vector_base_x (-1), vector_p]``.
    The 24-bit time base is ``time_high << 12 | time_low``; a wrap (2**24 µs) is counted only when
    TIME_HIGH steps back by at least half its range, never from TIME_LOW.
    """
    th = state[0]
    last = state[1]
    tl = state[2]
    cy = state[3]
    base = state[4]
    vp = state[5]
    cap = ev.shape[0]
    tcap = trig.shape[0]
    nw = words.shape[0]
    i = start
    status = DONE
    cat = -1
    while i < nw:
        if last >= 0:
            i, n, th, last, tl, cy, base, vp = _evt3_run(
                words, i, ev, n, th, last, tl, cy, base, vp, width, height
            )
            if i >= nw:
                break
        w = np.int64(words[i])
        typ = w >> 12
        cat = -1
        if typ == 0x2:  # ADDR_X: one event
            if last < 0 or cy < 0:
                cat = BAD_NO_TIME_BASE
            else:
                xx = w & 0x7FF
                if xx >= width or cy >= height:
                    cat = BAD_OUTSIDE_SENSOR
                else:
                    if n >= cap:
                        status = EVENTS_FULL
                        break
                    e = ev[n]
                    e["t"] = (th << 12) | tl
                    e["x"] = xx
                    e["y"] = cy
                    e["p"] = (w >> 11) & 1
                    n += 1
        elif typ == 0x0:  # ADDR_Y: a new row needs a new vector base
            cy = w & 0x7FF
            base = -1
        elif typ == 0x6:  # TIME_LOW
            tl = w & 0xFFF
        elif typ == 0x4 or typ == 0x5:  # VECT_12, VECT_8
            nbits = 12 if typ == 0x4 else 8
            mask = w & ((1 << nbits) - 1)
            if base < 0:
                cat = BAD_VECT_BASE
            elif last < 0:
                cat = BAD_NO_TIME_BASE
            elif cy < 0:  # no ADDR_Y yet: the row is unknown (the base moves on, as outside the sensor)
                cat = BAD_NO_TIME_BASE
                base += nbits
            elif cy >= height:
                cat = BAD_OUTSIDE_SENSOR
                base += nbits
            else:
                if n + nbits > cap:
                    status = EVENTS_FULL
                    break
                tt = (th << 12) | tl
                for k in range(nbits):
                    if (mask >> k) & 1:
                        if base + k >= width:
                            cat = BAD_PARTIAL_VECTOR
                        else:
                            e = ev[n]
                            e["t"] = tt
                            e["x"] = base + k
                            e["y"] = cy
                            e["p"] = vp
                            n += 1
                base += nbits
        elif typ == 0x3:  # VECT_BASE_X
            bx = w & 0x7FF
            if bx >= width:
                cat = BAD_VECT_BASE
                base = -1
            else:
                base = bx
                vp = (w >> 11) & 1
        elif typ == 0x8:  # TIME_HIGH
            raw = w & 0xFFF
            th, ok = _advance_time_high(th, last, raw, 12)
            if ok:
                last = raw
            else:
                cat = BAD_TIME_HIGH_BACK
        elif typ == 0xA:  # EXT_TRIGGER
            if last < 0:
                cat = BAD_NO_TIME_BASE
            else:
                if n_trig >= tcap:
                    status = TRIGGERS_FULL
                    break
                g = trig[n_trig]
                g["t"] = (th << 12) | tl
                g["id"] = (w >> 8) & 0xF
                g["value"] = w & 1
                n_trig += 1
        elif typ == 0x7 or typ == 0xE or typ == 0xF:  # CONTINUED_4, OTHERS, CONTINUED_12
            counts[VENDOR] += 1
        else:
            cat = BAD_WORD_TYPE
        if cat >= 0:
            if strict:
                status = CORRUPT
                break
            counts[cat] += 1
        i += 1
    state[0] = th
    state[1] = last
    state[2] = tl
    state[3] = cy
    state[4] = base
    state[5] = vp
    return i, n, n_trig, status, cat


@njit
def _dat_run(words, i, ev, n, offset, last, width, height):
    """The hot path: valid in-sensor events without a timestamp wrap, until any other."""
    nw = words.shape[0]
    stop = min(nw, i + ev.shape[0] - n)
    wrap = last - (1 << 31)
    while i < stop:
        raw = np.int64(words[i, 0])
        addr = np.int64(words[i, 1])
        xx = addr & 0x3FFF
        yy = (addr >> 14) & 0x3FFF
        if addr >> 28 > 1 or xx >= width or yy >= height or raw < wrap:
            break
        e = ev[n]
        e["t"] = offset + raw
        e["x"] = xx
        e["y"] = yy
        e["p"] = addr >> 28
        n += 1
        i += 1
        wrap = raw - (1 << 31)
    return i, n, wrap + (1 << 31)


@njit
def decode_dat(words, start, state, ev, n, trig, n_trig, width, height, strict, counts):
    """Decode Prophesee DAT 8-byte events (``words`` is ``(n, 2)`` uint32: timestamp, address).

    ``state = [time offset, last raw timestamp (-1)]``; the 32-bit µs counter wraps when it steps
    back by more than half its range.
    """
    offset = state[0]
    last = state[1]
    cap = ev.shape[0]
    nw = words.shape[0]
    i = start
    status = DONE
    cat = -1
    while i < nw:
        i, n, last = _dat_run(words, i, ev, n, offset, last, width, height)
        if i >= nw:
            break
        raw = np.int64(words[i, 0])
        addr = np.int64(words[i, 1])
        cat = -1
        pol = addr >> 28
        xx = addr & 0x3FFF
        yy = (addr >> 14) & 0x3FFF
        if pol > 1:
            cat = BAD_POLARITY
        elif xx >= width or yy >= height:
            cat = BAD_OUTSIDE_SENSOR
        else:
            if n >= cap:
                status = EVENTS_FULL
                break
            if last >= 0 and last - raw > (1 << 31):
                offset += 1 << 32
            last = raw
            e = ev[n]
            e["t"] = offset + raw
            e["x"] = xx
            e["y"] = yy
            e["p"] = pol
            n += 1
        if cat >= 0:
            if strict:
                status = CORRUPT
                break
            counts[cat] += 1
        i += 1
    state[0] = offset
    state[1] = last
    return i, n, n_trig, status, cat


@njit
def decode_nmnist(words, start, state, ev, n, trig, n_trig, width, height, strict, counts):
    """Decode N-MNIST / ATIS 5-byte events (``words`` is ``(n, 5)`` uint8).

    ``state = [time offset]``: a record with ``y == 240`` adds 2**13 µs to all later timestamps.
    """
    offset = state[0]
    cap = ev.shape[0]
    nw = words.shape[0]
    i = start
    status = DONE
    cat = -1
    while i < nw:
        cat = -1
        yy = np.int64(words[i, 1])
        if yy == 240:
            offset += 1 << 13
        else:
            xx = np.int64(words[i, 0])
            b2 = np.int64(words[i, 2])
            if xx >= width or yy >= height:
                cat = BAD_OUTSIDE_SENSOR
            else:
                if n >= cap:
                    status = EVENTS_FULL
                    break
                e = ev[n]
                e["t"] = offset + (((b2 & 127) << 16) | (np.int64(words[i, 3]) << 8) | np.int64(words[i, 4]))
                e["x"] = xx
                e["y"] = yy
                e["p"] = b2 >> 7
                n += 1
        if cat >= 0:
            if strict:
                status = CORRUPT
                break
            counts[cat] += 1
        i += 1
    state[0] = offset
    return i, n, n_trig, status, cat


@njit
def _next_time(t, ie, trig_t, it):
    """Time of the next item and whether it is a trigger (triggers go first at equal times)."""
    big = np.int64(1) << 62
    te = t[ie] if ie < t.shape[0] else big
    tg = trig_t[it] if it < trig_t.shape[0] else big
    if tg <= te:
        return tg, True
    return te, False


@njit
def encode_evt2(t, x, y, p, trig_t, trig_id, trig_v, ie, it, state, out):
    """Encode events and triggers (both sorted by ``t``) as EVT 2.0 words into ``out``.

    ``state = [time_high (-1: none written)]``. The first TIME_HIGH is 0 and later ones step by less
    than half the counter's range, so that any ``t >= 0`` decodes back exactly. Returns
    ``(ie, it, n_words)``; the caller flushes ``out[:n_words]`` and calls again while ``ie < len(t)``
    or ``it < len(trig_t)``.
    """
    th = state[0]
    cap = out.shape[0]
    n = 0
    while (ie < t.shape[0] or it < trig_t.shape[0]) and n < cap:
        tn, is_trig = _next_time(t, ie, trig_t, it)
        want = tn >> 6
        if th != want:
            th = 0 if th < 0 else th + min(want - th, _EVT2_TH_HALF - 1)
            out[n] = (np.uint32(8) << 28) | np.uint32(th & _EVT2_TH_MASK)
        elif is_trig:
            out[n] = (
                (np.uint32(0xA) << 28) | np.uint32((tn & 63) << 22) | np.uint32(np.int64(trig_id[it]) << 8)
            ) | np.uint32(trig_v[it])
            it += 1
        else:
            out[n] = (
                (np.uint32(p[ie]) << 28) | np.uint32((tn & 63) << 22) | np.uint32(np.int64(x[ie]) << 11)
            ) | np.uint32(y[ie])
            ie += 1
        n += 1
    state[0] = th
    return ie, it, n


@njit
def encode_evt3(t, x, y, p, trig_t, trig_id, trig_v, ie, it, state, out):
    """Encode events and triggers (both sorted by ``t``) as EVT 3.0 words into ``out``.

    ``state = [time_high, time_low, y]`` (-1: not written yet). Runs of 3 to 12 events with one time,
    row and polarity and rising ``x`` within 12 pixels are written as VECT_BASE_X + VECT_8/VECT_12.
    Returns ``(ie, it, n_words)`` as :func:`encode_evt2`.
    """
    th = state[0]
    tl = state[1]
    cy = state[2]
    cap = out.shape[0]
    ne = t.shape[0]
    n = 0
    while (ie < ne or it < trig_t.shape[0]) and n + 2 <= cap:
        tn, is_trig = _next_time(t, ie, trig_t, it)
        want = tn >> 12
        if th != want:
            th = 0 if th < 0 else th + min(want - th, _EVT3_TH_HALF - 1)
            out[n] = np.uint16((0x8 << 12) | (th & 0xFFF))
            tl = -1
            n += 1
        elif tl != (tn & 0xFFF):
            tl = tn & 0xFFF
            out[n] = np.uint16((0x6 << 12) | tl)
            n += 1
        elif is_trig:
            out[n] = np.uint16((0xA << 12) | (np.int64(trig_id[it]) << 8) | np.int64(trig_v[it]))
            it += 1
            n += 1
        elif cy != y[ie]:
            cy = np.int64(y[ie])
            out[n] = np.uint16(cy)
            n += 1
        else:
            j = ie + 1
            x0 = np.int64(x[ie])
            while (
                j < ne
                and j - ie < 12
                and t[j] == tn
                and y[j] == y[ie]
                and p[j] == p[ie]
                and x[j] > x[j - 1]
                and np.int64(x[j]) - x0 < 12
            ):
                j += 1
            pol = np.int64(p[ie]) << 11
            if j - ie >= 3:
                mask = 0
                for k in range(ie, j):
                    mask |= 1 << (np.int64(x[k]) - x0)
                out[n] = np.uint16((0x3 << 12) | pol | x0)
                if np.int64(x[j - 1]) - x0 < 8:
                    out[n + 1] = np.uint16((0x5 << 12) | mask)
                else:
                    out[n + 1] = np.uint16((0x4 << 12) | mask)
                n += 2
                ie = j
            else:
                out[n] = np.uint16((0x2 << 12) | pol | x0)
                n += 1
                ie += 1
    state[0] = th
    state[1] = tl
    state[2] = cy
    return ie, it, n
