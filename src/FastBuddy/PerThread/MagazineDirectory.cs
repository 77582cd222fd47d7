namespace FastBuddy.PerThread;

/// <summary>
/// Every magazine of the process and the thread that owns it, so that the memory of detached magazines is freed
/// once their threads have exited (attached ones are retired by their arena first).
/// </summary>
internal static class MagazineDirectory
{
    private static readonly Lock s_lock = new();
    private static readonly List<MagazineHandle> s_all = [];
    private static int s_sweepAt = 64;

    /// <summary>Records a new magazine; every time the directory has doubled, sweeps it.</summary>
    public static void Add(MagazineHandle handle)
    {
        bool sweep;
        lock (s_lock)
        {
            s_all.Add(handle);
            sweep = s_all.Count >= s_sweepAt;
        }
        if (sweep)
            Sweep();
    }

    /// <summary>Statistics readers walking a registry snapshot without locks: while any is, no magazine is freed.</summary>
    public static int Readers;

    /// <summary>Frees the detached magazines of exited threads (later, while a statistics reader is counted).</summary>
    public static void Sweep()
    {
        lock (s_lock)
        {
            if (Interlocked.CompareExchange(ref Readers, 0, 0) != 0)
                return;
            s_all.RemoveAll(static h =>
            {
                // A drainer or a quiesce holding the handle's lock may still read its memory: free it next time.
                if (!h.DrainLock.TryEnter())
                    return false;
                try
                {
                    if (Volatile.Read(ref h.Arena) is not null || !h.MemoryFreeable)
                        return false;
                    h.Release();
                    return true;
                }
                finally
                {
                    h.DrainLock.Exit();
                }
            });
            s_sweepAt = Math.Max(64, s_all.Count * 2);
        }
    }

    /// <summary>Magazines in the directory (for tests and diagnostics).</summary>
    public static int Count
    {
        get
        {
            lock (s_lock)
                return s_all.Count;
        }
    }
}
