using FastBuddy.Slab;
using Xunit;

namespace FastBuddy.Tests.Slab;

/// <summary>The exact division by multiplication that finds an object from a pointer: right for every offset of every class.</summary>
public unsafe class SlabIndexTests
{
    [Fact]
    public void IndexOf_IsTheObjectIndex_AtEveryObjectStart_AndMinusOneAtEveryOtherOffset_ForEveryClass()
    {
        SlabHeader header = default;
        for (int cls = 0; cls < SizeClasses.Count; cls++)
        {
            int size = SizeClasses.SizeOf(cls);
            int order = SlabCache.OrderFor(size, 12, 11, out int objects);
            Assert.True(order >= 0);
            int twos = System.Numerics.BitOperations.TrailingZeroCount(size);
            header.Inverse = SlabHeader.InverseOf((ulong)size >> twos);
            header.Twos = (byte)twos;
            header.Objects = (ushort)objects;
            long bytes = 4096L << order;
            for (long offset = 0; offset < bytes; offset++)
            {
                int want = offset % size == 0 && offset / size < objects ? (int)(offset / size) : -1;
                Assert.Equal(want, SlabHeader.IndexOf(&header, (nuint)offset));
            }
        }
    }

    [Fact]
    public void InverseOf_AnOddNumber_TimesThatNumber_IsOne()
    {
        for (ulong d = 1; d < 1 << 16; d += 2)
            Assert.Equal(1UL, d * SlabHeader.InverseOf(d));
    }
}
