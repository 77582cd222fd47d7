using FastBuddy.Buddy;

namespace FastBuddy;

// The byte API above the largest block: runs of contiguous max-order blocks in one zone.
public sealed unsafe partial class BuddyArena
{
    /// <summary>
    /// The largest size the byte API (<see cref="Alloc"/>, <see cref="Realloc"/>, <see cref="Rent"/>) accepts: the
    /// largest zone's whole largest blocks (2^(MaxOrder-1) pages each), or the largest block if that is more. A
    /// larger request is <see cref="FastBuddyStatus.InvalidArgument"/>: no zone of the arena could ever hold it.
    /// </summary>
    public nuint MaxAllocBytes
    {
        get
        {
            int blocks = 1;
            foreach (Zone zone in _zones)
                blocks = Math.Max(blocks, zone.RunCapacity);
            return (nuint)blocks * LargestBlockBytes;
        }
    }

    private nuint LargestBlockBytes => (nuint)1 << (_pageShift + MaxOrder - 1);

    /// <summary>The blocks of a run holding <paramref name="bytes"/> (above the largest block); throws when no zone could.</summary>
    private int RunBlocksFor(nuint bytes)
    {
        nuint max = MaxAllocBytes;
        if (bytes > max)
            ThrowHelper.ThrowBadInput(FastBuddyStatus.InvalidArgument,
                $"Size {bytes} is out of range: no zone of this arena can hold more than {max} bytes.", nameof(bytes));
        return (int)((bytes - 1) / LargestBlockBytes) + 1;
    }

    /// <summary>Alloc above the largest block: a run of max-order blocks from the default zonelist.</summary>
    private void* AllocRun(nuint bytes, AllocFlags flags)
    {
        ThrowIfDisposed();
        if ((flags & ~AllocFlagsExtensions.All) != 0)
            ThrowHelper.ThrowUnknownFlags(flags);
        int blocks = RunBlocksFor(bytes);
        using InFlight call = Enter();
        void* run = Policy.AllocateRun(blocks, flags, _zonelists[^1]);
        if (run != null && (flags & AllocFlags.Zero) != 0)
            Platform.ArenaMemory.Zero(run, (nuint)blocks * LargestBlockBytes);
        return run;
    }

    /// <summary>Whether <paramref name="p"/> heads a run (a hint: the run calls check it under the zone lock).</summary>
    private bool IsRun(void* p)
    {
        Zone? zone = FindZone((nint)p);
        return zone is not null && zone.IsRunHead((int)(((nint)p - zone.Base) >> _pageShift));
    }

    /// <summary>Free of a run: every block back to the free areas.</summary>
    private void FreeRun(Zone zone, int page, void* p)
    {
        using InFlight call = Enter();
        Policy.FreeRun(zone, page, (nint)p);
    }

    /// <summary>Free of a span covering a run: the span's size must need exactly the run's length (else OrderMismatch).</summary>
    private void FreeRunSpan(void* p, nuint bytes)
    {
        Zone zone = Locate(p, out int page);
        int blocks = RunBlocksFor(bytes);
        using InFlight call = Enter();
        Policy.FreeRun(zone, page, (nint)p, length: blocks);
    }

    /// <summary>UsableSize of a run: its blocks' bytes; throws when <paramref name="page"/> is not a live run.</summary>
    private nuint RunUsableSize(Zone zone, int page, void* p)
    {
        FastBuddyStatus status;
        int blocks;
        lock (zone.Lock)
        {
            status = zone.CheckRun(page);
            blocks = zone.RunBlocks(page);
        }
        if (status != FastBuddyStatus.Ok)
            ThrowHelper.ThrowFreeRejected(status, (nint)p, MaxOrder - 1);
        return (nuint)blocks * LargestBlockBytes;
    }

    /// <summary>
    /// Realloc into a run, out of one, or from run to run: a run that the new size still needs shrinks in place,
    /// or grows in place when the blocks right after it are free; any other change moves (<see cref="Move"/>:
    /// allocate, copy, free), the old allocation left untouched on failure.
    /// </summary>
    private void* ReallocRun(void* p, nuint bytes, AllocFlags flags)
    {
        nuint old = UsableSize(p);
        if (bytes > LargestBlockBytes && IsRun(p) && ResizeRunInPlace(p, RunBlocksFor(bytes), flags))
        {
            nuint size = UsableSize(p);
            if (size > old && (flags & AllocFlags.Zero) != 0)
                Platform.ArenaMemory.Zero((byte*)p + old, size - old);
            LastError = FastBuddyStatus.Ok;
            return p;
        }
        return Move(p, old, bytes, flags);
    }

    private bool ResizeRunInPlace(void* p, int blocks, AllocFlags flags)
    {
        Zone zone = Locate(p, out int page);
        using InFlight call = Enter();
        return Policy.ResizeRun(zone, page, (nint)p, blocks, flags);
    }
}
