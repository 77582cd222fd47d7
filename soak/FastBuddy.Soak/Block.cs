namespace FastBuddy.Soak;

/// <summary>
/// A live allocation of the soak: where, what order (a block of pages) or what usable size (a slab object), how it
/// was allocated, and the id its pattern comes from.
/// </summary>
internal readonly unsafe record struct Block(nint Address, int Order, Block.Kind What, long Id, nuint Size = 0)
{
    /// <summary>Pages: from AllocPages; Bytes: a block of pages from the byte API; Object: a slab object from it.</summary>
    public enum Kind { Pages, Bytes, Object }

    /// <summary>Pages the host holds as its own block (a slab object's pages are the slab's, counted in SlabPages).</summary>
    public int HeldPages => What == Kind.Object ? 0 : 1 << Order;

    /// <summary>Writes the id's pattern into the first and last word of every page, or of the object (enough to see overlap and loss).</summary>
    public void Fill(int pageSize)
    {
        if (What == Kind.Object)
        {
            ((ulong*)Address)[0] = Pattern(0);
            if (Size >= 16)
                ((ulong*)(Address + (nint)Size))[-1] = ~Pattern(0);
            return;
        }
        int pages = 1 << Order;
        for (int i = 0; i < pages; i++)
        {
            ulong* page = (ulong*)(Address + (nint)i * pageSize);
            page[0] = Pattern(i);
            page[pageSize / 8 - 1] = ~Pattern(i);
        }
    }

    public bool Check(int pageSize)
    {
        if (What == Kind.Object)
            return ((ulong*)Address)[0] == Pattern(0) && (Size < 16 || ((ulong*)(Address + (nint)Size))[-1] == ~Pattern(0));
        int pages = 1 << Order;
        for (int i = 0; i < pages; i++)
        {
            ulong* page = (ulong*)(Address + (nint)i * pageSize);
            if (page[0] != Pattern(i) || page[pageSize / 8 - 1] != ~Pattern(i))
                return false;
        }
        return true;
    }

    /// <summary>Fills <paramref name="bytes"/> bytes from the start (for Realloc's kept prefix).</summary>
    public void FillBytes(nuint bytes)
    {
        byte* p = (byte*)Address;
        for (nuint i = 0; i < bytes; i++)
            p[i] = (byte)(Id * 31 + (long)i);
    }

    public bool CheckBytes(nuint bytes)
    {
        byte* p = (byte*)Address;
        for (nuint i = 0; i < bytes; i++)
        {
            if (p[i] != (byte)(Id * 31 + (long)i))
                return false;
        }
        return true;
    }

    private ulong Pattern(int page) => (ulong)Id * 0x9E3779B97F4A7C15UL ^ (ulong)page;
}
