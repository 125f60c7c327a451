"""Streaming SHA-256 + SM3 + size in one pass (ING-2, habit 4)."""

from __future__ import annotations

import hashlib
import os

import pytest

from core.digests import CHUNK_SIZE, Digests, StreamingDigester, digest_file

pytestmark = pytest.mark.req("ING-2")


def _reference(data: bytes) -> Digests:
    return Digests(
        hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest(), len(data)
    )


def test_parallel_digests_equal_hashlib_for_uneven_chunks():
    data = os.urandom(3 * CHUNK_SIZE + 17)
    cuts = [0, 1, 1000, CHUNK_SIZE, CHUNK_SIZE + 5, 2 * CHUNK_SIZE, len(data)]
    with StreamingDigester() as digester:
        for a, b in zip(cuts, cuts[1:], strict=False):
            digester.update(data[a:b])
        assert digester.finish() == _reference(data)


def test_memoryview_and_bytearray_chunks_are_hashed_as_bytes():
    data = bytearray(os.urandom(100_000))
    with StreamingDigester() as digester:
        digester.update(memoryview(data)[:40_000])
        digester.update(data[40_000:])
        result = digester.finish()
    assert result == _reference(bytes(data))


def test_chunk_reused_by_caller_after_update_does_not_change_digest():
    """A caller may refill its buffer as soon as update() returns (readinto pools)."""
    buffer = bytearray(b"A" * 65536)
    with StreamingDigester() as digester:
        digester.update(memoryview(buffer))
        buffer[:] = b"B" * 65536
        digester.update(memoryview(buffer))
        result = digester.finish()
    assert result == _reference(b"A" * 65536 + b"B" * 65536)


def test_empty_input_digests_of_nothing():
    with StreamingDigester() as digester:
        digester.update(b"")
        assert digester.finish() == _reference(b"")


def test_known_sm3_vector():
    # GB/T 32905-2016 example 1: SM3("abc")
    with StreamingDigester() as digester:
        digester.update(b"abc")
        result = digester.finish()
    assert result.sm3 == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert result.size == 3


def test_checkpoint_restore_undoes_a_rejected_chunk():
    good, rejected, more = b"good part " * 1000, b"rejected chunk", b" and the rest"
    digester = StreamingDigester()
    digester.update(good)
    point = digester.checkpoint()
    digester.update(rejected)
    digester.restore(point)
    digester.update(more)
    assert digester.finish() == _reference(good + more)


def test_checkpoint_resumes_in_a_new_digester():
    first, second = os.urandom(70_000), os.urandom(50_000)
    digester = StreamingDigester()
    digester.update(first)
    states, size = digester.checkpoint()
    digester.close()
    resumed = StreamingDigester(states, size)
    resumed.update(second)
    assert resumed.finish() == _reference(first + second)


def test_peek_does_not_close():
    with StreamingDigester() as digester:
        digester.update(b"part one")
        assert digester.peek() == _reference(b"part one")
        digester.update(b" part two")
        assert digester.finish() == _reference(b"part one part two")


def test_digest_file_whole_and_prefix(tmp_path):
    data = os.urandom(CHUNK_SIZE + 333)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert digest_file(path) == _reference(data)
    assert digest_file(path, limit=1000) == _reference(data[:1000])
    assert digest_file(path, chunk_size=4096, limit=0) == _reference(b"")


def test_as_dict_carries_algorithm_names_and_size():
    d = _reference(b"x")
    assert d.as_dict() == {"sha256": d.sha256, "sm3": d.sm3, "size": 1}


def test_pooled_chunks_lent_to_the_digester_are_hashed_before_their_buffer_is_reused():
    import io

    from core.digests import PooledReader

    data = os.urandom(10 * 1024 + 17)
    reader = PooledReader(io.BytesIO(data).readinto, count=2, size=1024)  # 11 chunks, 2 buffers
    seen = []
    with StreamingDigester() as digester:
        for chunk in reader:
            seen.append(bytes(chunk))
            # hashed later, by two threads, in the very buffer the next reads would overwrite
            digester.update(chunk, release=reader.lend(chunk))
        result = digester.finish()
    assert b"".join(seen) == data
    assert result == _reference(data)


def test_a_consumer_that_copies_frees_each_buffer_when_it_asks_for_the_next():
    import io

    from core.digests import PooledReader

    data = os.urandom(5000)
    reader = PooledReader(io.BytesIO(data).readinto, count=1, size=512)  # one buffer only
    assert b"".join(bytes(chunk) for chunk in reader) == data  # never blocks


def test_only_the_readers_own_chunks_are_lent():
    import io

    from core.digests import PooledReader

    reader = PooledReader(io.BytesIO(b"abc").readinto, count=1, size=8)
    assert reader.lend(b"abc") is None
    assert reader.lend(memoryview(bytearray(b"abc"))) is None
    chunks = iter(reader)
    chunk = next(chunks)
    release = reader.lend(chunk)
    assert callable(release)
    release()


def test_empty_lent_chunk_is_released_at_once():
    calls = []
    with StreamingDigester() as digester:
        digester.update(memoryview(bytearray()), release=lambda: calls.append(1))
        assert calls == [1]
        assert digester.finish() == _reference(b"")
