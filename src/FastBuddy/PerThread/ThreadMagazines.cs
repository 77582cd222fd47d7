using System.Numerics;
using System.Runtime.CompilerServices;
using FastBuddy.Buddy;
using FastBuddy.Diagnostics;
using System.Runtime.InteropServices;
using FastBuddy.Platform;
using FastBuddy.Slab;

namespace FastBuddy.PerThread;

/// <summary>
/// The per-thread layer of one arena (later kernels' per-CPU page lists, kept per thread): every thread that
/// allocates gets a <see cref="Magazine"/> of parked blocks of the low orders, and reuses them without a lock or
/// an atomic. Its face is narrow: pop, park, refill, spill, drain, claim (a free from another thread), retire (a
/// thread's exit) and quiesce (the arena's end).
/// </summary>
/// <remarks>
/// <para>
/// A parked block is allocated as far as the buddy system knows (its tag carries <see cref="PageFlags.Parked"/>)
/// and is never counted in free_pages, so step 1's watermark test, which the zone's gate word encodes, stays
/// exact. An empty list is refilled with one block of a higher order cut into a batch (one rmqueue, not one per
/// block), never taking the zone below pages_low; a full list spills its coldest batch back. Order 0 keeps up
/// to <see cref="ArenaOptions.PerCpuPages"/> pages, order k a quarter as many blocks per order step (at least
/// one), and no list more than 1/64 of its zone.
/// </para>
/// <para>
/// Only the owner thread touches its magazine's lists, inside its <see cref="Magazine.InUse"/> window. Any other
/// thread that must (a drain, a free of a block this thread owns, the arena's dispose) takes the magazine's drain
/// lock, raises <see cref="Magazine.DrainRequested"/>, issues one process-wide memory barrier and waits for the
/// window to close: after the barrier either the owner sees the request and steps aside, or the other thread
/// sees the owner inside and waits. So the owner's fast path needs no interlocked instruction, and of two
/// threads racing to free one block exactly one wins.
/// </para>
/// </remarks>
internal sealed unsafe class ThreadMagazines
{
    private const int MaxBatch = 256;
    private static long s_nextKey;

    private readonly Zone[] _zones;
    private readonly int _orders;
    private readonly int[] _cap;
    private readonly int[] _split;
    private readonly int _bytes;
    private readonly Action<int, long, long> _onRetire;
    private readonly Lock _registryLock = new();
    private readonly Stack<int> _freeSlots = new();
    private readonly List<MagazineHandle> _attached = [];
    private MagazineHandle?[] _bySlot = new MagazineHandle?[16];
    private MagazineHandle[] _snapshot = [];
    private int _nextSlot = 1;
    private bool _dead;

    /// <summary>The layer for <paramref name="zones"/>; <paramref name="onRetire"/> is called for each zone when an exited thread's magazine retires (zone, served, freed).</summary>
    public ThreadMagazines(Zone[] zones, int maxOrder, int orderZeroCap, int orderZeroBatch, int orders, Action<int, long, long> onRetire)
    {
        _zones = zones;
        _orders = maxOrder;
        _onRetire = onRetire;
        Key = (ulong)Interlocked.Increment(ref s_nextKey) | 1UL << 63; // C handles never set the top bit
        Orders = orderZeroCap > 0 ? Math.Clamp(orders, 1, maxOrder) : 0;
        _cap = new int[zones.Length * maxOrder];
        _split = new int[_cap.Length];
        int slots = 0;
        for (int zi = 0; zi < zones.Length; zi++)
        {
            Zone zone = ZoneOf(zi);
            int served = 0;
            for (int order = 0; order < Orders; order++)
            {
                int cap = Capacity(zone, order, orderZeroCap);
                int batch = order == 0 ? Math.Clamp(orderZeroBatch, 1, Math.Max(cap, 1)) : Math.Max(1, cap / 4);
                _cap[zi * maxOrder + order] = cap;
                _split[zi * maxOrder + order] = BitOperations.Log2((uint)Math.Min(batch, MaxBatch));
                slots += cap;
                if (cap > 0 && served == order)
                    served = order + 1;
            }
            zone.GateLimit = served;
        }
        _bytes = SlotsStart + slots * sizeof(uint);
    }

    /// <summary>The slabs threads own (null until the arena's slab layer is attached, and when it has none).</summary>
    public OwnedSlabs? Slabs { get; set; }

    /// <summary>Identifies this arena in its magazines; C hosts' arenas use their handle (see <see cref="UseKey"/>).</summary>
    public ulong Key { get; private set; }

    /// <summary>Orders with lists (0: the layer is off).</summary>
    public int Orders { get; }

    public bool Enabled => Orders > 0;

    private int SlotsStart => Magazine.HeaderBytes + Magazine.ObjectBytes + _zones.Length * _orders * sizeof(MagazineList) + _zones.Length * sizeof(MagazineTally);

    /// <summary>Zone slot zi of a magazine: the fast zone (the highest) first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Zone ZoneOf(int zi) => _zones[_zones.Length - 1 - zi];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int SlotOf(Zone zone) => _zones.Length - 1 - zone.Index;

    private static int Capacity(Zone zone, int order, int orderZeroCap)
    {
        long cap = order == 0 ? orderZeroCap : Math.Max(1, orderZeroCap >> (order + 2));
        cap = Math.Min(cap, (zone.Pages / 64) >> order);
        return (int)Math.Min(cap, ushort.MaxValue);
    }

    /// <summary>Adopts the C handle as the key, so that the header's inline path can compare it. Before any magazine exists.</summary>
    public void UseKey(ulong key)
    {
        lock (_registryLock)
        {
            if (_attached.Count != 0)
                throw new InvalidOperationException("The arena's key cannot change once threads have magazines.");
            Key = key;
        }
    }

    private MagazineTally* Tally(Magazine* m, int zi)
        => (MagazineTally*)((byte*)m + Magazine.HeaderBytes + Magazine.ObjectBytes + _zones.Length * _orders * sizeof(MagazineList)) + zi;

    private ref long FreedCounter(Magazine* m, int zi) => ref zi == 0 ? ref m->Freed : ref Tally(m, zi)->Freed;

    // ------------------------------------------------------------------ binding

    /// <summary>The calling thread's magazine for this arena, created and registered on first use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Magazine* For()
    {
        Magazine* m = CurrentMagazine.Value;
        return m != null && m->ArenaKey == Key ? m : Bind();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Magazine* Bind()
    {
        ThreadState state = ThreadState.Current;
        foreach (MagazineHandle mine in state.Magazines)
        {
            if (mine.Arena == this)
            {
                CurrentMagazine.Switch(mine.Ptr);
                return mine.Ptr;
            }
        }
        DrainExited();
        MagazineHandle? h = null;
        foreach (MagazineHandle mine in state.Magazines)
        {
            if (mine.Arena is null && mine.Bytes >= _bytes)
            {
                h = mine;
                break;
            }
        }
        if (h is null)
        {
            h = new MagazineHandle(_bytes);
            state.Magazines.Add(h);
            MagazineDirectory.Add(h);
        }
        lock (_registryLock)
        {
            if (_dead)
                ThrowHelper.ThrowDisposed();
            int slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _nextSlot++;
            if (slot >= _bySlot.Length)
                Array.Resize(ref _bySlot, _bySlot.Length * 2);
            Initialise(h, slot);
            h.Slot = slot;
            Volatile.Write(ref h.Arena, this);
            Volatile.Write(ref _bySlot[slot], h);
            _attached.Add(h);
            _snapshot = [.. _attached];
        }
        CurrentMagazine.Switch(h.Ptr);
        return h.Ptr;
    }

    private void Initialise(MagazineHandle h, int slot)
    {
        Magazine* m = h.Ptr;
        NativeMemory.Clear(m, (nuint)h.Bytes);
        Zone fast = ZoneOf(0);
        m->HeadTag = PageDescriptor.HeadTag(slot, 0);
        m->Base = (byte*)fast.Base;
        m->Desc = fast.Desc;
        m->Gate = fast.Gate;
        m->Pages = (uint)fast.Pages;
        m->PageShift = (byte)fast.PageShift;
        m->Orders = (byte)_orders;
        m->Slabs = Slabs is { } slabs ? slabs.Caches.Table.Base : null;
        m->Recent = SlabHeader.Nowhere;
        uint offset = (uint)(SlotsStart / sizeof(uint));
        for (int i = 0; i < _cap.Length; i++)
        {
            MagazineList* list = Magazine.FastList(m, i);
            list->Cap = (ushort)_cap[i];
            list->Offset = offset;
            offset += (uint)_cap[i];
        }
        m->ArenaKey = Key;
    }

    /// <summary>Every attached magazine, for counters and drains.</summary>
    public MagazineHandle[] Snapshot => Volatile.Read(ref _snapshot);

    // ------------------------------------------------------------------ the owner's slow operations

    /// <summary>The owner opens its window for an operation other than the fast paths; false when the arena is gone.</summary>
    public bool Enter(Magazine* m)
    {
        Volatile.Write(ref m->InUse, 1);
        SchedulePoints.Reach(SchedulePoints.OwnerEntering);
        if (Volatile.Read(ref m->DrainRequested) != 0)
            StepAside(m);
        if (m->ArenaKey == Key)
            return true;
        Volatile.Write(ref m->InUse, 0);
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Exit(Magazine* m) => Volatile.Write(ref m->InUse, 0);

    /// <summary>Someone reaches into this magazine: close the window until they are done.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void StepAside(Magazine* m)
    {
        int slot = PageDescriptor.OwnerOf(m->HeadTag);
        do
        {
            Volatile.Write(ref m->InUse, 0);
            MagazineHandle? h = (uint)slot < (uint)_bySlot.Length ? Volatile.Read(ref _bySlot[slot]) : null;
            if (h is not null)
            {
                lock (SchedulePoints.Taking(SchedulePoints.OwnerSteppingAside, h.DrainLock)) { }
            }
            else
                Thread.Yield();
            Volatile.Write(ref m->InUse, 1);
        }
        while (Volatile.Read(ref m->DrainRequested) != 0);
    }

    /// <summary>Pop: the most recently parked block of (zone slot, order), tagged for the owner, or -1. Inside the window.</summary>
    public int Pop(Magazine* m, int zi, int order)
    {
        MagazineList* list = Magazine.List(m, zi, order);
        int n = list->Count - 1;
        if (n < 0)
            return -1;
        list->Count = (ushort)n;
        int page = (int)Magazine.Slots(m)[list->Offset + (uint)n];
        PageDescriptor.TagOf(ref ZoneOf(zi).Desc[page]) = m->HeadTag | (ulong)(uint)order << PageDescriptor.OrderShift;
        return page;
    }

    /// <summary>Pops as many order-0 blocks of <paramref name="zone"/> as there are (up to the span) as addresses. Inside the window.</summary>
    public int PopMany(Magazine* m, Zone zone, Span<nint> into)
    {
        MagazineList* list = Magazine.List(m, SlotOf(zone), 0);
        int count = list->Count;
        int n = Math.Min(count, into.Length);
        uint* slots = Magazine.Slots(m) + list->Offset;
        ulong tag = m->HeadTag;
        for (int i = 0; i < n; i++)
        {
            uint page = slots[count - 1 - i];
            PageDescriptor.TagOf(ref zone.Desc[page]) = tag;
            into[i] = (nint)zone.Address((int)page);
        }
        list->Count = (ushort)(count - n);
        return n;
    }

    /// <summary>
    /// Refill: the list is empty; take a batch from the zone (one higher-order block cut up, never below
    /// pages_low) and hand one block to the caller, which may go down to <paramref name="floor"/>. Returns its page
    /// or -1 (no list for that order, or the zone refuses). Inside the window.
    /// </summary>
    public int Refill(Magazine* m, Zone zone, int order, long floor)
    {
        int zi = SlotOf(zone);
        MagazineList* list = Magazine.List(m, zi, order);
        if (list->Cap == 0)
            return -1;
        ulong headTag = m->HeadTag | (ulong)(uint)order << PageDescriptor.OrderShift;
        Span<int> pieces = stackalloc int[1 << _split[zi * _orders + order]];
        int taken;
        lock (zone.Lock)
        {
            if (_dead)
                return -1;
            taken = zone.RmQueueSplit(order, _split[zi * _orders + order], zone.PagesLow, headTag | PageDescriptor.ParkedBit, pieces);
            if (taken == 0)
                taken = TakeOneByOne(zone, order, floor, headTag, pieces);
        }
        if (taken == 0)
            return -1;
        SchedulePoints.Reach(SchedulePoints.OwnerRefilled);
        PageDescriptor.TagOf(ref zone.Desc[pieces[0]]) = headTag;
        uint* slots = Magazine.Slots(m) + list->Offset;
        for (int i = taken - 1; i >= 1; i--)
            slots[list->Count++] = (uint)pieces[i];
        Tally(m, zi)->Refilled += taken;
        return pieces[0];
    }

    /// <summary>No whole batch to cut: one block for the caller (down to its floor), the rest while the zone stays at pages_low.</summary>
    private static int TakeOneByOne(Zone zone, int order, long floor, ulong headTag, Span<int> pieces)
    {
        int owner = PageDescriptor.OwnerOf(headTag);
        int first = zone.RmQueue(order, floor, owner);
        if (first < 0)
            return 0;
        pieces[0] = first;
        int n = 1;
        for (; n < pieces.Length; n++)
        {
            int extra = zone.RmQueue(order, zone.PagesLow, owner);
            if (extra < 0)
                break;
            PageDescriptor.TagOf(ref zone.Desc[extra]) = headTag | PageDescriptor.ParkedBit;
            pieces[n] = extra;
        }
        return n;
    }

    /// <summary>
    /// Park: a block this thread owns or has claimed (checked by the caller), unless its order has no list; it is
    /// tagged as parked here. A full list spills its coldest batch first; <paramref name="spilled"/> says how many
    /// blocks that gave back to the zone.
    /// </summary>
    public bool Park(Magazine* m, Zone zone, int page, int order, out int spilled)
    {
        SchedulePoints.Reach(SchedulePoints.OwnerParking);
        int zi = SlotOf(zone);
        MagazineList* list = Magazine.List(m, zi, order);
        spilled = 0;
        if (list->Cap == 0)
            return false;
        if (list->Count == list->Cap)
            spilled = Spill(m, zone, order);
        Magazine.Slots(m)[list->Offset + list->Count++] = (uint)page;
        PageDescriptor.TagOf(ref zone.Desc[page]) = m->HeadTag | (ulong)(uint)order << PageDescriptor.OrderShift | PageDescriptor.ParkedBit;
        FreedCounter(m, zi)++;
        return true;
    }

    /// <summary>Room for <paramref name="count"/> more blocks of (zone, order), spilling as needed; returns blocks spilled.</summary>
    public int MakeRoom(Magazine* m, Zone zone, int order, int count)
    {
        MagazineList* list = Magazine.List(m, SlotOf(zone), order);
        int spilled = 0;
        while (list->Cap - list->Count < count && list->Count > 0)
            spilled += Spill(m, zone, order);
        return spilled;
    }

    /// <summary>Free slots of (zone, order).</summary>
    public int Room(Magazine* m, Zone zone, int order)
    {
        MagazineList* list = Magazine.List(m, SlotOf(zone), order);
        return list->Cap - list->Count;
    }

    /// <summary>Parks blocks already checked and claimed for this thread; the caller made room.</summary>
    public void ParkClaimed(Magazine* m, Zone zone, int order, ReadOnlySpan<int> pages)
    {
        int zi = SlotOf(zone);
        MagazineList* list = Magazine.List(m, zi, order);
        uint* slots = Magazine.Slots(m) + list->Offset;
        ulong parked = m->HeadTag | (ulong)(uint)order << PageDescriptor.OrderShift | PageDescriptor.ParkedBit;
        foreach (int page in pages)
        {
            slots[list->Count++] = (uint)page;
            PageDescriptor.TagOf(ref zone.Desc[page]) = parked;
        }
        FreedCounter(m, zi) += pages.Length;
    }

    /// <summary>Spill: the coldest batch of a full list goes back to the zone. Inside the window (or with the owner shut out).</summary>
    public int Spill(Magazine* m, Zone zone, int order)
    {
        int zi = SlotOf(zone);
        return GiveBack(m, zi, zone, order, 1 << _split[zi * _orders + order]);
    }

    private int GiveBack(Magazine* m, int zi, Zone zone, int order, int most)
    {
        MagazineList* list = Magazine.List(m, zi, order);
        int n = Math.Min(most, (int)list->Count);
        if (n == 0)
            return 0;
        uint* slots = Magazine.Slots(m) + list->Offset;
        lock (zone.Lock)
        {
            for (int i = 0; i < n; i++)
                zone.FreeBlock((int)slots[i], order);
        }
        SchedulePoints.Reach(SchedulePoints.ListGivenBack);
        int rest = list->Count - n;
        Buffer.MemoryCopy(slots + n, slots, (long)rest * sizeof(uint), (long)rest * sizeof(uint));
        list->Count = (ushort)rest;
        Tally(m, zi)->Spilled += n;
        return n;
    }

    // ------------------------------------------------------------------ other threads

    /// <summary>
    /// Claim: moves the tag of a block from <paramref name="expected"/> to <paramref name="claimed"/> for a thread
    /// other than the block's owner, after shutting the owner out of its window (the owner frees its own blocks
    /// with plain stores). False: the tag was no longer <paramref name="expected"/>.
    /// </summary>
    public bool Claim(Zone zone, int page, ulong expected, ulong claimed)
    {
        int slot = PageDescriptor.OwnerOf(expected);
        while (true)
        {
            MagazineHandle? owner = (uint)slot < (uint)_bySlot.Length ? Volatile.Read(ref _bySlot[slot]) : null;
            if (owner is null)
            {
                lock (_registryLock)
                {
                    if ((uint)slot >= (uint)_bySlot.Length || _bySlot[slot] is null)
                        return zone.TryClaim(page, expected, claimed);
                }
                continue;
            }
            if (owner.Owner == Thread.CurrentThread)
                return zone.TryClaim(page, expected, claimed); // our own block: we are not inside our own window
            lock (SchedulePoints.Taking(SchedulePoints.ClaimLocking, owner.DrainLock))
            {
                if (Volatile.Read(ref _bySlot[slot]) != owner)
                    continue;
                if (owner.OwnerGone)
                    return zone.TryClaim(page, expected, claimed);
                Magazine* m = owner.Ptr;
                Volatile.Write(ref m->DrainRequested, 1);
                SchedulePoints.Reach(SchedulePoints.ClaimRequested);
                Interlocked.MemoryBarrierProcessWide();
                WaitOutside(m, long.MaxValue);
                SchedulePoints.Reach(SchedulePoints.ClaimWaited);
                bool won = zone.TryClaim(page, expected, claimed);
                Volatile.Write(ref m->DrainRequested, 0);
                return won;
            }
        }
    }

    /// <summary>Waits for the owner to leave its window, backing off; false after <paramref name="patienceMs"/> milliseconds.</summary>
    private static bool WaitOutside(Magazine* m, long patienceMs)
    {
        SpinWait spin = default;
        long start = Environment.TickCount64;
        while (Volatile.Read(ref m->InUse) != 0)
        {
            if (Environment.TickCount64 - start >= patienceMs)
                return false;
            SchedulePoints.Spin(SchedulePoints.HandshakeWaiting);
            spin.SpinOnce(sleep1Threshold: 64);
        }
        return true;
    }

    /// <summary>
    /// How long (ms) a drain waits for one owner to leave its window (a few instructions, unless the owner is
    /// suspended or starved) before leaving that magazine for the next drain.
    /// </summary>
    private const long DrainPatience = 50;

    /// <summary>Drain: every parked block of every thread back to the buddy system (exited threads retire). Returns the pages.</summary>
    public long DrainAll() => Drain(exitedOnly: false);

    /// <summary>Retires the magazines of threads that have exited, their blocks back to the buddy system.</summary>
    public long DrainExited() => Drain(exitedOnly: true);

    private long Drain(bool exitedOnly)
    {
        MagazineHandle[] all = Snapshot;
        var targets = new List<MagazineHandle>(all.Length);
        // Lock in registry order (every drainer does), then choose under each lock: a handle that another drainer
        // retired since the snapshot may have had its memory freed (MagazineDirectory.Sweep frees it only under
        // the same lock), so it is not touched.
        foreach (MagazineHandle h in all)
        {
            SchedulePoints.Taking(SchedulePoints.DrainLocking, h.DrainLock).Enter();
            if (Volatile.Read(ref h.Arena) == this && (!exitedOnly || h.OwnerGone))
                targets.Add(h);
            else
                h.DrainLock.Exit();
        }
        if (targets.Count == 0)
            return 0;
        long drained = 0;
        // Raise the requests, then one barrier for all.
        try
        {
            foreach (MagazineHandle h in targets)
                Volatile.Write(ref h.Ptr->DrainRequested, 1);
            SchedulePoints.Reach(SchedulePoints.DrainRequested);
            Interlocked.MemoryBarrierProcessWide();
            foreach (MagazineHandle h in targets)
            {
                // An owner stuck inside its window (suspended, starved) keeps its blocks until the next drain.
                if (h.Arena == this && WaitOutside(h.Ptr, DrainPatience))
                    drained += Empty(h.Ptr, keepSpares: !h.OwnerGone);
                Volatile.Write(ref h.Ptr->DrainRequested, 0);
            }
        }
        finally
        {
            foreach (MagazineHandle h in targets)
                h.DrainLock.Exit();
        }
        Retire(targets);
        return drained;
    }

    /// <summary>Every parked block back, every slab to its pool (an exited thread's empty slabs straight back to the buddy system).</summary>
    private long Empty(Magazine* m, bool keepSpares)
    {
        SchedulePoints.Reach(SchedulePoints.DrainEmptying);
        long pages = Slabs?.ReleaseAll(m, keepSpares) ?? 0;
        for (int zi = 0; zi < _zones.Length; zi++)
        {
            for (int order = 0; order < Orders; order++)
                pages += (long)GiveBack(m, zi, ZoneOf(zi), order, int.MaxValue) << order;
        }
        return pages;
    }

    /// <summary>Thread exit: forgets drained magazines of exited threads, folding their counts into the policy's.</summary>
    private void Retire(List<MagazineHandle> drained)
    {
        bool any = false;
        lock (_registryLock)
        {
            foreach (MagazineHandle h in drained)
            {
                // Arena first: a handle still ours (registry lock held) cannot have been swept, so Ptr is valid.
                if (h.Arena != this || !h.OwnerGone || Parked(h.Ptr) != 0 || OwnedSlabs.OwnsAny(h.Ptr))
                    continue;
                for (int zi = 0; zi < _zones.Length; zi++)
                    _onRetire(ZoneOf(zi).Index, Served(h.Ptr, zi), FreedCounter(h.Ptr, zi));
                _attached.Remove(h);
                _bySlot[h.Slot] = null;
                _freeSlots.Push(h.Slot);
                Volatile.Write(ref h.Arena, null);
                any = true;
            }
            if (any)
                _snapshot = [.. _attached];
        }
        if (any)
            MagazineDirectory.Sweep();
    }

    /// <summary>
    /// Quiesce (the arena's dispose): clears every magazine's key and range, waits until no owner is inside its
    /// window, and detaches them all; afterwards no fast path reaches this arena's memory.
    /// </summary>
    public void Quiesce()
    {
        MagazineHandle[] all;
        lock (_registryLock)
        {
            _dead = true;
            all = [.. _attached];
        }
        foreach (MagazineHandle h in all)
            SchedulePoints.Taking(SchedulePoints.QuiesceLocking, h.DrainLock).Enter();
        try
        {
            foreach (MagazineHandle h in all)
            {
                h.Ptr->ArenaKey = 0;
                h.Ptr->Pages = 0;
                Volatile.Write(ref h.Ptr->DrainRequested, 1);
            }
            SchedulePoints.Reach(SchedulePoints.QuiesceRequested);
            Interlocked.MemoryBarrierProcessWide();
            foreach (MagazineHandle h in all)
            {
                WaitOutside(h.Ptr, long.MaxValue);
                SchedulePoints.Reach(SchedulePoints.QuiesceWaited);
                OwnedSlabs.Forget(h.Ptr);
                Volatile.Write(ref h.Arena, null);
                Volatile.Write(ref h.Ptr->DrainRequested, 0);
            }
        }
        finally
        {
            foreach (MagazineHandle h in all)
                h.DrainLock.Exit();
        }
        lock (_registryLock)
        {
            _attached.Clear();
            _snapshot = [];
        }
        MagazineDirectory.Sweep();
    }

    // ------------------------------------------------------------------ counts (racy while threads run)

    private long Parked(Magazine* m)
    {
        long pages = 0;
        for (int zi = 0; zi < _zones.Length; zi++)
        {
            for (int order = 0; order < Orders; order++)
                pages += (long)Magazine.List(m, zi, order)->Count << order;
        }
        return pages;
    }

    /// <summary>Blocks a magazine handed out in zone slot zi: everything that came in less what went out or is still parked.</summary>
    private long Served(Magazine* m, int zi)
    {
        long parked = 0;
        for (int order = 0; order < Orders; order++)
            parked += Magazine.List(m, zi, order)->Count;
        MagazineTally* t = Tally(m, zi);
        return t->Refilled + FreedCounter(m, zi) - t->Spilled - parked;
    }

    /// <summary>Pages parked in all threads' magazines in <paramref name="zone"/>.</summary>
    public long ParkedPages(int zone) => SumAttached(_zones.Length - 1 - zone, &ParkedIn);

    /// <summary>Attached magazines that own a slab (a racy look, for kswapd's choice to drain).</summary>
    public long MagazinesOwningSlabs() => Slabs is null ? 0 : SumAttached(0, &OwnsSlabs);

    /// <summary>Blocks served by all attached magazines in <paramref name="zone"/>.</summary>
    public long ServedBlocks(int zone) => SumAttached(_zones.Length - 1 - zone, &ServedBy);

    /// <summary>Blocks freed into all attached magazines in <paramref name="zone"/>.</summary>
    public long FreedBlocks(int zone) => SumAttached(_zones.Length - 1 - zone, &FreedInto);

    /// <summary>
    /// Sums <paramref name="read"/> over the attached magazines without locks. The reader is counted in
    /// <see cref="MagazineDirectory.Readers"/> before it takes the snapshot, and the directory frees no magazine
    /// while any reader is counted, so a magazine retired since the snapshot is still readable (its counts are stale
    /// by then and it is skipped).
    /// </summary>
    private long SumAttached(int zi, delegate*<ThreadMagazines, Magazine*, int, long> read)
    {
        Interlocked.Increment(ref MagazineDirectory.Readers);
        try
        {
            long sum = 0;
            foreach (MagazineHandle h in Snapshot)
            {
                if (Volatile.Read(ref h.Arena) == this)
                    sum += read(this, h.Ptr, zi);
            }
            return sum;
        }
        finally
        {
            Interlocked.Decrement(ref MagazineDirectory.Readers);
        }
    }

    private static long ParkedIn(ThreadMagazines t, Magazine* m, int zi)
    {
        long pages = 0;
        for (int order = 0; order < t.Orders; order++)
            pages += (long)Magazine.List(m, zi, order)->Count << order;
        return pages;
    }

    private static long ServedBy(ThreadMagazines t, Magazine* m, int zi) => t.Served(m, zi);

    private static long OwnsSlabs(ThreadMagazines t, Magazine* m, int zi) => OwnedSlabs.OwnsAny(m) ? 1 : 0;

    private static long FreedInto(ThreadMagazines t, Magazine* m, int zi) => t.FreedCounter(m, zi);

    /// <summary>Threads with a magazine in this arena (the soak watches that the registry does not grow).</summary>
    public int ThreadCount => Snapshot.Length;
}
