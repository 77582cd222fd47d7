namespace FastBuddy.Tests.TestSupport;

/// <summary>Fills blocks with a pattern derived from a seed and checks that nobody else wrote into them.</summary>
internal static unsafe class Patterns
{
    /// <summary>A seed that names one block of one thread.</summary>
    public static ulong Seed(int thread, long block) => ((ulong)(uint)thread << 40) ^ (ulong)block ^ 0x5DEECE66DUL;

    private static ulong Word(ulong seed, nuint index)
    {
        ulong x = seed + 0x9E3779B97F4A7C15UL * ((ulong)index + 1);
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9UL;
        return x ^ (x >> 29);
    }

    /// <summary>Writes the pattern of <paramref name="seed"/> over <paramref name="bytes"/> (a multiple of 8).</summary>
    public static void Fill(void* block, nuint bytes, ulong seed)
    {
        ulong* w = (ulong*)block;
        nuint words = bytes / 8;
        for (nuint i = 0; i < words; i++)
            w[i] = Word(seed, i);
    }

    /// <summary>Offset of the first byte that differs from the pattern, or -1 when the block is intact.</summary>
    public static long FirstMismatch(void* block, nuint bytes, ulong seed)
    {
        ulong* w = (ulong*)block;
        nuint words = bytes / 8;
        for (nuint i = 0; i < words; i++)
        {
            if (w[i] != Word(seed, i))
                return (long)i * 8;
        }
        return -1;
    }

    /// <summary>Fails the test when the block no longer holds the pattern of <paramref name="seed"/>.</summary>
    public static void AssertIntact(void* block, nuint bytes, ulong seed)
    {
        long at = FirstMismatch(block, bytes, seed);
        if (at >= 0)
            Assert.Fail($"Block 0x{(nint)block:x} ({bytes} bytes, seed 0x{seed:x}) was overwritten at offset {at}.");
    }

    /// <summary>Sets every byte to <paramref name="value"/>.</summary>
    public static void FillBytes(void* block, nuint bytes, byte value) => new Span<byte>(block, checked((int)bytes)).Fill(value);

    /// <summary>Fails the test unless every byte is <paramref name="value"/>.</summary>
    public static void AssertAllBytes(void* block, nuint bytes, byte value)
    {
        var span = new ReadOnlySpan<byte>(block, checked((int)bytes));
        int at = span.IndexOfAnyExcept(value);
        if (at >= 0)
            Assert.Fail($"Byte {at} of block 0x{(nint)block:x} is 0x{span[at]:x2}, expected 0x{value:x2}.");
    }
}
