namespace FastBuddy.Buddy;

/// <summary>
/// The 2.4 merge bitmaps of one zone: per order below the top, one bit per buddy pair, toggled whenever either
/// buddy enters or leaves that order's free area.
/// </summary>
/// <remarks>
/// The bit is the XOR of "left buddy free at this order" and "right buddy free at this order". On a free the
/// caller toggles first and reads the result: 0 means the buddy is free too (merge), 1 means it is busy (stop).
/// All orders live in one pinned array; <see cref="_offsets"/> gives each order's first word.
/// </remarks>
internal sealed unsafe class MergeBitmap
{
    private readonly ulong[] _words;
    private readonly ulong* _base;
    private readonly int[] _offsets;

    public MergeBitmap(int pages, int maxOrder)
    {
        _offsets = new int[Math.Max(maxOrder, 1)];
        int total = 0;
        for (int order = 0; order < maxOrder - 1; order++)
        {
            _offsets[order] = total;
            long pairs = ((long)pages >> (order + 1)) + 1;
            total += (int)((pairs + 63) >> 6);
        }
        _words = GC.AllocateArray<ulong>(Math.Max(total, 1), pinned: true);
        _base = (ulong*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _words[0]);
    }

    /// <summary>Bytes of metadata.</summary>
    public long Bytes => (long)_words.Length * sizeof(ulong);

    /// <summary>Toggles the pair bit of <paramref name="page"/> at <paramref name="order"/>; returns the new value.</summary>
    public bool Toggle(int page, int order)
    {
        int bit = page >> (order + 1);
        ulong* word = _base + _offsets[order] + (bit >> 6);
        ulong mask = 1UL << (bit & 63);
        *word ^= mask;
        return (*word & mask) != 0;
    }

    public bool Test(int page, int order)
    {
        int bit = page >> (order + 1);
        return (_base[_offsets[order] + (bit >> 6)] & (1UL << (bit & 63))) != 0;
    }
}
