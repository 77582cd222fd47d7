namespace FastBuddy.Soak;

/// <summary>A live block of the soak: where, what order, how it was allocated, and the id its pattern comes from.</summary>
internal readonly unsafe record struct Block(nint Address, int Order, Block.Kind What, long Id)
{
    public enum Kind { Pages, Bytes }

    public int Pages(int pageSize) => 1 << Order;

    /// <summary>Writes the id's pattern into the first and last word of every page (enough to see overlap and loss).</summary>
    public void Fill(int pageSize)
    {
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
