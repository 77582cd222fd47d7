using FastBuddy.Buddy;
using FastBuddy.PerThread;

namespace FastBuddy.Policy;

// Bulk allocation: step 1 for many order-0 pages at once.
internal sealed unsafe partial class AllocationPath
{
    /// <summary>
    /// Allocates up to <c>into.Length</c> order-0 pages: first the thread's parked pages, then whole blocks cut
    /// into pages under one lock round trip per zone that passes step 1 (while the zone stays at pages_low), then
    /// the rest one by one through the whole policy. Returns how many were allocated (fewer only when the policy
    /// refuses).
    /// </summary>
    public int AllocateBulk(Span<nint> into, AllocFlags flags, Zone[] zonelist)
    {
        int n = 0;
        foreach (Zone zone in zonelist)
        {
            if (n == into.Length || Volatile.Read(ref zone.FreePages) < zone.PagesLow)
                continue;
            if (zone.GateLimit > 0)
                n += PopParked(zone, into[n..]);
            n += TakeRuns(zone, into[n..]);
        }
        while (n < into.Length)
        {
            void* block = Allocate(0, flags, zonelist);
            if (block == null)
                break;
            into[n++] = (nint)block;
        }
        if (n == into.Length)
            ThreadState.LastError = FastBuddyStatus.Ok;
        return n;
    }

    private int PopParked(Zone zone, Span<nint> into)
    {
        Magazine* m = _magazines.For();
        if (!_magazines.Enter(m))
            return 0;
        int n = _magazines.PopMany(m, zone, into);
        ThreadMagazines.Exit(m);
        return n;
    }

    /// <summary>Order-0 pages cut from the largest blocks that fit, each take keeping free ≥ pages_low before it.</summary>
    private int TakeRuns(Zone zone, Span<nint> into)
    {
        Span<int> pieces = stackalloc int[256];
        ulong tag = PageDescriptor.HeadTag(OwnerSlot(), 0);
        int n = 0;
        lock (zone.Lock)
        {
            int split = Math.Min(8, zone.MaxOrder - 1);
            while (n < into.Length && split >= 0 && !_arena.IsDisposed)
            {
                if (1 << split > into.Length - n)
                {
                    split--;
                    continue;
                }
                int got = zone.RmQueueSplit(0, split, zone.PagesLow - 1, tag, pieces);
                if (got == 0)
                {
                    split--;
                    continue;
                }
                for (int i = 0; i < got; i++)
                    into[n + i] = (nint)zone.Address(pieces[i]);
                n += got;
            }
            ZoneAccount account = Account(zone);
            account.Steps[(int)AllocationStep.FastPath] += n;
            account.Pressure += n;
        }
        return n;
    }
}
