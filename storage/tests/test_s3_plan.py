"""How a commit turns staged segments into multipart parts (no server needed)."""

from __future__ import annotations

from storage.backends.s3 import MIN_PART, _plan_parts

M = 1024 * 1024


def _segments(*sizes):
    offset, result = 0, []
    for size in sizes:
        result.append((offset, size))
        offset += size
    return result


def test_big_segments_are_copied_and_a_short_tail_is_sent_last():
    plan = _plan_parts(_segments(8 * M, 8 * M, 3 * M))
    assert [kind for kind, _ in plan] == ["copy", "copy", "send"]


def test_short_segments_in_the_middle_are_joined_until_a_part_is_big_enough():
    # PATCHes that ended mid-segment leave short segments: S3 refuses parts under 5 MiB but the last
    plan = _plan_parts(_segments(8 * M, 2 * M, 2 * M, 8 * M, 1 * M))
    assert [kind for kind, _ in plan] == ["copy", "send", "send"]
    assert [sum(length for _o, length in pieces) for _k, pieces in plan] == [8 * M, 12 * M, 1 * M]
    for _kind, pieces in plan[:-1]:
        assert sum(length for _o, length in pieces) >= MIN_PART


def test_every_byte_is_in_exactly_one_part_in_order():
    segments = _segments(1 * M, 6 * M, 4 * M, 4 * M, 9 * M, 2 * M)
    plan = _plan_parts(segments)
    assert [piece for _kind, pieces in plan for piece in pieces] == segments


def test_nothing_staged_is_no_part():
    assert _plan_parts([]) == []


def test_a_node_whose_clock_is_off_gets_a_clear_error():
    """S3 signatures carry the node's time; a skewed clock is refused by the server (clock skew)."""
    import pytest
    from botocore.exceptions import ClientError

    from storage.backends.base import VaultUnavailableError
    from storage.backends.s3 import S3Backend

    class Skewed:
        def head_bucket(self, **kwargs):
            raise ClientError({"Error": {"Code": "RequestTimeTooSkewed", "Message": "skew"}}, "HeadBucket")

    backend = S3Backend(endpoint="http://s3.invalid", region="us-east-1", access_key="k", secret_key="s",
                        bucket="b", derivative_bucket="d", client=Skewed())
    with pytest.raises(VaultUnavailableError) as caught:
        backend.check()
    assert "时钟" in caught.value.message and "NTP" in caught.value.message
