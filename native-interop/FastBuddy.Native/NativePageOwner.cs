namespace FastBuddy.Native;

/// <summary>
/// An <see cref="IPageOwner"/> made of a C fb_page_ops and its ctx: the arena calls it to launder and reclaim the
/// pages a C host put into the page cache.
/// </summary>
/// <remarks>
/// The function pointers are copied out of the host's fb_page_ops at fb_cache_add, so the struct need not outlive
/// the call. A null writeback means "pages are always clean". Writeback's int result: positive = clean now,
/// 0 = still dirty (retried later), negative = failed, which is thrown so the arena puts the page back on the
/// active list, as it does for a C# owner that throws.
/// </remarks>
internal sealed unsafe class NativePageOwner : IPageOwner
{
    /// <summary>What identifies an owner: both callbacks and the context.</summary>
    internal readonly record struct Key(nint Writeback, nint Evict, nint Context);

    private readonly delegate* unmanaged<void*, void*, int> _writeback;
    private readonly delegate* unmanaged<void*, void*, void> _evict;
    private readonly void* _context;

    public NativePageOwner(Key key)
    {
        _writeback = (delegate* unmanaged<void*, void*, int>)key.Writeback;
        _evict = (delegate* unmanaged<void*, void*, void>)key.Evict;
        _context = (void*)key.Context;
    }

    public bool Matches(in Key key)
        => (nint)_writeback == key.Writeback && (nint)_evict == key.Evict && (nint)_context == key.Context;

    public bool Writeback(void* page)
    {
        if (_writeback == null)
            return true;
        int result = _writeback(_context, page);
        if (result < 0)
            throw new IOException($"fb_page_ops.writeback failed with {result} for page 0x{(nint)page:x}.");
        return result > 0;
    }

    public void Evict(void* page) => _evict(_context, page);
}
