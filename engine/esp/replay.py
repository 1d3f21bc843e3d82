"""Anti-replay window (RFC 4303 section 3.4.3) kept as a ring of 64-bit blocks (RFC 6479).

Sliding never shifts one big bitmap: moving the top forward zeroes only the blocks it
enters, so a packet costs the same with a window of 64 or of 65536. With extended
sequence numbers the high 32 bits are inferred as in RFC 4303 Appendix A2.2.
"""

from __future__ import annotations

_BLOCK_SHIFT = 6  # 64 bits per block
_BIT_MASK = 63
_LOW32 = 0xFFFFFFFF


class ReplayWindow:
    """`check` before the ICV (cheap reject), `accept` only after it verified."""

    __slots__ = ("_blocks", "_mask", "esn", "highest", "size")

    def __init__(self, size: int = 64, esn: bool = False) -> None:
        if size < 1:
            raise ValueError("the anti-replay window holds at least one packet")
        self.size = size
        self.esn = esn
        #: the highest sequence number accepted so far (0: none yet)
        self.highest = 0
        # enough blocks that the oldest in-window number never shares a slot with the top
        count = 2
        while count < (size - 1) // 64 + 2:
            count <<= 1
        self._blocks = [0] * count
        self._mask = count - 1
        # sequence numbers start at 1: 0 counts as already seen (RFC 4303 section 3.3.3)
        self._blocks[0] = 1

    def check(self, seq_low: int) -> int:
        """The full sequence number that `seq_low` (the 32 bits on the wire) stands for,
        or -1 when it was already seen or is older than the window. Changes nothing."""
        top = self.highest
        if self.esn:
            size = self.size
            top_low = top & _LOW32
            high = top >> 32
            if top_low >= size - 1:
                # Case A: the window lies within one 2^32 subspace
                if seq_low < top_low - size + 1:
                    high += 1
            elif seq_low >= (top_low - size + 1) & _LOW32:
                # Case B: the window spans two subspaces and seq_low is in the older one
                high -= 1
                if high < 0:
                    return -1
            seq = (high << 32) | seq_low
        else:
            seq = seq_low
        if seq > top:
            return seq
        if top - seq >= self.size:
            return -1
        if self._blocks[(seq >> _BLOCK_SHIFT) & self._mask] >> (seq & _BIT_MASK) & 1:
            return -1
        return seq

    def accept(self, seq: int) -> None:
        """Mark `seq` (a full number from `check`) as received, sliding the window."""
        blocks = self._blocks
        mask = self._mask
        top = self.highest
        if seq > top:
            old = top >> _BLOCK_SHIFT
            new = seq >> _BLOCK_SHIFT
            if new - old > mask:
                blocks[:] = [0] * len(blocks)
            elif new != old:
                for block in range(old + 1, new + 1):
                    blocks[block & mask] = 0
            self.highest = seq
        blocks[(seq >> _BLOCK_SHIFT) & mask] |= 1 << (seq & _BIT_MASK)
